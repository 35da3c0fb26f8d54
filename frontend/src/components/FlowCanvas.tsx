/** A flow graph drawn with @xyflow/react: auto-laid-out nodes, selectable (click, or Tab to a
 * node and press Enter), optionally connectable (drag from a node's right handle). */
import { Background, Controls, Handle, MarkerType, type Node, type NodeProps, Position, ReactFlow, type Edge } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo } from "react";
import type { FlowGraph, GraphNode } from "../builder/graph";

export type StepNodeData = GraphNode & { status?: string; issues?: string[]; selected?: boolean } & Record<string, unknown>;

function StepNode({ data }: NodeProps<Node<StepNodeData>>) {
  const classes = ["gnode", `gnode-${data.kind}`, data.status ? `status-${data.status}` : "", data.issues?.length ? "has-issues" : "", data.selected ? "is-selected" : ""];
  return (
    <div className={classes.join(" ")} title={data.issues?.join("\n")} data-testid={`gnode-${data.label}`}>
      <Handle type="target" position={Position.Left} />
      {data.kind !== "join" && <span className="gnode-label">{data.label}</span>}
      {data.detail && <span className="gnode-detail">{data.detail}</span>}
      {data.status && <span className="sr-only">status {data.status}</span>}
      {data.issues?.length ? <span className="gnode-issue" aria-label={`${data.issues.length} problems`}>!</span> : null}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { step: StepNode };

export interface FlowCanvasProps {
  graph: FlowGraph;
  label: string;
  selected?: string | null;
  onSelect?: (uid: string | null) => void;
  onConnect?: (sourceUid: string, targetUid: string) => void;
  statusOf?: (node: GraphNode) => string | undefined;
  issuesOf?: (node: GraphNode) => string[] | undefined;
  height?: number;
}

export function FlowCanvas({ graph, label, selected, onSelect, onConnect, statusOf, issuesOf, height = 360 }: FlowCanvasProps) {
  const nodes = useMemo<Node<StepNodeData>[]>(
    () =>
      graph.nodes.map((n) => ({
        id: n.id,
        type: "step",
        position: { x: n.x, y: n.y },
        width: n.width,
        height: n.height,
        draggable: false,
        connectable: Boolean(onConnect) && n.kind !== "start" && n.kind !== "end",
        selectable: Boolean(n.uid),
        ariaLabel: `${n.kind} ${n.label} ${n.detail}`.trim(),
        data: { ...n, status: statusOf?.(n), issues: issuesOf?.(n), selected: Boolean(selected) && n.uid === selected && n.kind !== "join" },
      })),
    [graph, statusOf, issuesOf, selected, onConnect],
  );
  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        label: e.label,
        type: e.back ? "smoothstep" : "default",
        animated: Boolean(e.back),
        markerEnd: { type: MarkerType.ArrowClosed },
        className: e.back ? "edge-back" : undefined,
      })),
    [graph],
  );
  const uidOf = (id: string) => graph.nodes.find((n) => n.id === id)?.uid;
  return (
    <div className="canvas" style={{ height }} role="group" aria-label={label}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={Boolean(onConnect)}
        edgesFocusable={false}
        elementsSelectable={Boolean(onSelect)}
        onNodeClick={(_, node) => onSelect?.(uidOf(node.id) ?? null)}
        onPaneClick={() => onSelect?.(null)}
        onNodesChange={(changes) => {
          // keyboard: Tab to a node and press Enter (the graph asks to select it)
          const chosen = changes.find((c) => c.type === "select" && c.selected);
          const uid = chosen && "id" in chosen ? uidOf(chosen.id) : undefined;
          if (uid && uid !== selected) onSelect?.(uid);
        }}
        onConnect={(c) => {
          const s = c.source && uidOf(c.source);
          const t = c.target && uidOf(c.target);
          if (s && t && onConnect) onConnect(s, t);
        }}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={16} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
