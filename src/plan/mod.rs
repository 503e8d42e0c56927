//! The plan of a pipeline: its instance graph (built once, from the expanded pipeline), the one
//! function that computes an instance's cache-key inputs ([`keys::key_inputs`]), and the one walk
//! "in dependency order, keyed and looked up in the cache" ([`walk::Walk`]) that `run`, `status`,
//! `cache pull` and the executors share. The scheduler only decides when and where a keyed
//! instance runs.

pub mod keys;
pub mod restrict;
pub mod status;
pub mod walk;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::dsl::Expanded;

pub use keys::{FileDigests, KeyBlock, Keyed, key_inputs};
pub use restrict::restrict;
pub use status::{Status, StatusRow, status};
pub use walk::{Step, Walk};

/// The instance graph of an expanded pipeline: edges point from producer to consumer and are
/// labelled with the consumer's input name.
pub struct Plan<'p> {
    pub pipeline: &'p Expanded,
    graph: DiGraph<usize, String>,
    /// Distinct upstream instances of each instance, ascending.
    upstream: Vec<Vec<usize>>,
    /// Distinct instances reading each instance, ascending.
    downstream: Vec<Vec<usize>>,
    order: Vec<usize>,
}

impl<'p> Plan<'p> {
    pub fn new(p: &'p Expanded) -> Plan<'p> {
        let n = p.instances.len();
        let mut graph = DiGraph::with_capacity(n, n * 2);
        let nodes: Vec<NodeIndex> = (0..n).map(|i| graph.add_node(i)).collect();
        let mut upstream = vec![Vec::new(); n];
        let mut downstream = vec![Vec::new(); n];
        let mut edges = Vec::new();
        for (i, inst) in p.instances.iter().enumerate() {
            for b in &inst.inputs {
                for s in &b.sources {
                    graph.add_edge(nodes[s.instance], nodes[i], b.name.clone());
                    upstream[i].push(s.instance);
                    downstream[s.instance].push(i);
                    edges.push((s.instance, i));
                }
            }
        }
        // An instance may read one upstream through several inputs: count it once.
        for v in upstream.iter_mut().chain(downstream.iter_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        // Expansion rejects cycles, so the order always exists.
        let order = crate::graph::topo_order(n, &edges).unwrap_or_else(|_| (0..n).collect());
        Plan { pipeline: p, graph, upstream, downstream, order }
    }

    pub fn len(&self) -> usize {
        self.pipeline.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pipeline.instances.is_empty()
    }

    /// Every instance, producers before consumers.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The distinct instances `i` reads from.
    pub fn upstream(&self, i: usize) -> &[usize] {
        &self.upstream[i]
    }

    /// The distinct instances that read `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.downstream[i]
    }

    /// The name of the stage instance `i` belongs to.
    pub fn stage_name(&self, i: usize) -> &str {
        &self.pipeline.stages[self.pipeline.instances[i].stage].name
    }

    /// Every edge as (producer, consumer, input name), in insertion order.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, &str)> + '_ {
        self.graph.edge_indices().filter_map(|e| {
            let (a, b) = self.graph.edge_endpoints(e)?;
            Some((self.graph[a], self.graph[b], self.graph[e].as_str()))
        })
    }

    /// The graph in Graphviz's DOT language.
    pub fn dot(&self) -> String {
        let p = self.pipeline;
        let mut s =
            format!("digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n", esc(&p.name));
        for (i, inst) in p.instances.iter().enumerate() {
            s.push_str(&format!("  n{i} [label=\"{}\\n({})\"];\n", esc(&inst.id), esc(&inst.kind)));
        }
        for (a, b, label) in self.edges() {
            s.push_str(&format!("  n{a} -> n{b} [label=\"{}\"];\n", esc(label)));
        }
        s.push_str("}\n");
        s
    }

    /// The graph as a Mermaid flowchart.
    pub fn mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n");
        for (i, inst) in self.pipeline.instances.iter().enumerate() {
            s.push_str(&format!("  n{i}[\"{}<br/><i>{}</i>\"]\n", inst.id.replace('"', "#quot;"), inst.kind));
        }
        for (a, b, label) in self.edges() {
            s.push_str(&format!("  n{a} -->|{label}| n{b}\n"));
        }
        s
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
