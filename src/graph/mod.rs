//! The DAG of stage instances (petgraph): ordering, cycle reports, DOT and Mermaid renderings.

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::dsl::Expanded;

/// Topological order of `n` nodes, or the node indices of one cycle (first node repeated last).
pub fn topo_order(n: usize, edges: &[(usize, usize)]) -> Result<Vec<usize>, Vec<usize>> {
    let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(n, edges.len());
    let nodes: Vec<NodeIndex> = (0..n).map(|i| g.add_node(i)).collect();
    for &(a, b) in edges {
        g.add_edge(nodes[a], nodes[b], ());
    }
    match toposort(&g, None) {
        Ok(order) => Ok(order.into_iter().map(|ix| g[ix]).collect()),
        Err(_) => Err(find_cycle(&g)),
    }
}

fn find_cycle(g: &DiGraph<usize, ()>) -> Vec<usize> {
    for scc in tarjan_scc(g) {
        let self_loop = scc.len() == 1 && g.contains_edge(scc[0], scc[0]);
        if scc.len() > 1 || self_loop {
            // Walk inside the component until a node repeats: that walk is a cycle.
            let members: std::collections::HashSet<NodeIndex> = scc.iter().copied().collect();
            let mut path = vec![scc[0]];
            loop {
                let cur = *path.last().expect("non-empty");
                let next = g.neighbors(cur).filter(|n| members.contains(n)).min_by_key(|n| g[*n]).expect("in a cycle");
                if let Some(pos) = path.iter().position(|&p| p == next) {
                    let mut cycle: Vec<usize> = path[pos..].iter().map(|&ix| g[ix]).collect();
                    cycle.push(g[next]);
                    return cycle;
                }
                path.push(next);
            }
        }
    }
    Vec::new()
}

/// The instance graph of an expanded pipeline (edges point from producer to consumer).
pub struct InstanceGraph {
    pub graph: DiGraph<usize, String>,
    pub nodes: Vec<NodeIndex>,
}

impl InstanceGraph {
    pub fn build(p: &Expanded) -> InstanceGraph {
        let mut graph = DiGraph::with_capacity(p.instances.len(), p.instances.len() * 2);
        let nodes: Vec<NodeIndex> = (0..p.instances.len()).map(|i| graph.add_node(i)).collect();
        for (i, inst) in p.instances.iter().enumerate() {
            for b in &inst.inputs {
                for s in &b.sources {
                    graph.add_edge(nodes[s.instance], nodes[i], b.name.clone());
                }
            }
        }
        InstanceGraph { graph, nodes }
    }

    pub fn dot(&self, p: &Expanded) -> String {
        let mut s =
            format!("digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n", esc(&p.name));
        for (i, inst) in p.instances.iter().enumerate() {
            s.push_str(&format!("  n{i} [label=\"{}\\n({})\"];\n", esc(&inst.id), esc(&inst.kind)));
        }
        for e in self.graph.edge_indices() {
            let (a, b) = self.graph.edge_endpoints(e).expect("edge exists");
            s.push_str(&format!("  n{} -> n{} [label=\"{}\"];\n", self.graph[a], self.graph[b], esc(&self.graph[e])));
        }
        s.push_str("}\n");
        s
    }

    pub fn mermaid(&self, p: &Expanded) -> String {
        let mut s = String::from("flowchart LR\n");
        for (i, inst) in p.instances.iter().enumerate() {
            s.push_str(&format!("  n{i}[\"{}<br/><i>{}</i>\"]\n", inst.id.replace('"', "#quot;"), inst.kind));
        }
        for e in self.graph.edge_indices() {
            let (a, b) = self.graph.edge_endpoints(e).expect("edge exists");
            s.push_str(&format!("  n{} -->|{}| n{}\n", self.graph[a], self.graph[e], self.graph[b]));
        }
        s
    }
}

/// Keeps only what `targets` need: the instances of the named stages (or the named instance ids)
/// and everything upstream of them, like `dvc repro STAGE` or `make TARGET`. Stage declarations
/// stay (their instance lists shrink), so stage indices are unchanged; instance indices are
/// renumbered. An unknown target is an error that names the nearest stage.
pub fn restrict(mut p: Expanded, targets: &[String]) -> Result<Expanded, String> {
    if targets.is_empty() {
        return Ok(p);
    }
    let n = p.instances.len();
    let mut keep = vec![false; n];
    let mut stack = Vec::new();
    for t in targets {
        let matched: Vec<usize> = match p.stages.iter().find(|s| &s.name == t) {
            Some(stage) => stage.instances.clone(),
            None => p.instances.iter().position(|i| &i.id == t).into_iter().collect(),
        };
        if matched.is_empty() {
            let names = p.stages.iter().map(|s| s.name.as_str());
            let hint =
                crate::dsl::suggest::nearest(t, names).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            return Err(format!("--target `{t}` is neither a stage nor an instance of pipeline `{}`{hint}", p.name));
        }
        stack.extend(matched);
    }
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut keep[i], true) {
            stack.extend(p.instances[i].inputs.iter().flat_map(|b| b.sources.iter().map(|s| s.instance)));
        }
    }
    let mut new_index = vec![usize::MAX; n];
    let mut next = 0;
    for (i, k) in keep.iter().enumerate() {
        if *k {
            new_index[i] = next;
            next += 1;
        }
    }
    let instances = std::mem::take(&mut p.instances);
    p.instances = instances.into_iter().enumerate().filter(|(i, _)| keep[*i]).map(|(_, inst)| inst).collect();
    for inst in &mut p.instances {
        for b in &mut inst.inputs {
            for s in &mut b.sources {
                s.instance = new_index[s.instance];
            }
        }
    }
    for stage in &mut p.stages {
        stage.instances = stage.instances.iter().filter(|&&i| keep[i]).map(|&i| new_index[i]).collect();
    }
    if let Some(main) = &p.main
        && p.stages.iter().any(|s| &s.name == main && s.instances.is_empty())
    {
        // The summary printed at the end comes from the last target stage instead.
        p.main = None;
    }
    Ok(p)
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_and_finds_cycles() {
        assert_eq!(topo_order(3, &[(0, 1), (1, 2)]).unwrap(), vec![0, 1, 2]);
        let c = topo_order(3, &[(0, 1), (1, 2), (2, 1)]).unwrap_err();
        assert_eq!(c.first(), c.last());
        assert!(c.contains(&1) && c.contains(&2));
    }
}
