/** Maximum flow (Dinic's algorithm) on a small directed graph with integer capacities. */
export class FlowGraph {
  private head: Int32Array;
  private to: number[] = [];
  private cap: number[] = [];
  private next: number[] = [];

  constructor(readonly nodes: number) {
    this.head = new Int32Array(nodes).fill(-1);
  }

  /** Number of edges added so far (each with its reverse). */
  get edges(): number {
    return this.to.length / 2;
  }

  addEdge(from: number, to: number, capacity: number): void {
    for (const [a, b, c] of [
      [from, to, capacity],
      [to, from, 0],
    ]) {
      this.to.push(b);
      this.cap.push(c);
      this.next.push(this.head[a]);
      this.head[a] = this.to.length - 1;
    }
  }

  /** The maximum flow from `s` to `t`. */
  maxFlow(s: number, t: number): number {
    const { nodes, head, to, cap, next } = this;
    const depth = new Int32Array(nodes);
    const iter = new Int32Array(nodes);
    const queue = new Int32Array(nodes);
    let flow = 0;
    for (;;) {
      depth.fill(-1);
      depth[s] = 0;
      let qh = 0;
      let qt = 0;
      queue[qt++] = s;
      while (qh < qt) {
        const v = queue[qh++];
        for (let e = head[v]; e >= 0; e = next[e]) {
          if (cap[e] > 0 && depth[to[e]] < 0) {
            depth[to[e]] = depth[v] + 1;
            queue[qt++] = to[e];
          }
        }
      }
      if (depth[t] < 0) return flow;
      iter.set(head);
      // Iterative DFS for blocking flow: unit pushes along the level graph.
      const stack: number[] = [];
      for (;;) {
        stack.length = 0;
        let v = s;
        let found = false;
        const path: number[] = [];
        for (;;) {
          if (v === t) {
            found = true;
            break;
          }
          let e = iter[v];
          while (e >= 0 && !(cap[e] > 0 && depth[to[e]] === depth[v] + 1)) e = next[e];
          iter[v] = e;
          if (e < 0) {
            if (v === s) break;
            depth[v] = -1; // dead end
            const back = path.pop() as number;
            v = to[back ^ 1];
            continue;
          }
          path.push(e);
          v = to[e];
        }
        if (!found) break;
        let push = Number.POSITIVE_INFINITY;
        for (const e of path) push = Math.min(push, cap[e]);
        for (const e of path) {
          cap[e] -= push;
          cap[e ^ 1] += push;
        }
        flow += push;
      }
    }
  }
}
