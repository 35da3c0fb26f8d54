import { cleanup } from "@testing-library/react";
import { afterEach, expect } from "vitest";

afterEach(() => cleanup());

// a tiny toHaveTextContent, so the tests need no jest-dom
expect.extend({
  toHaveTextContent(element: Element | null, expected: string) {
    const text = element?.textContent ?? "";
    return {
      pass: text.includes(expected),
      message: () => `expected ${JSON.stringify(text)} to contain ${JSON.stringify(expected)}`,
    };
  },
});

declare module "vitest" {
  interface Assertion<T> {
    toHaveTextContent(expected: string): T;
  }
}
