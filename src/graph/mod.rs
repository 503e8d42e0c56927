//! Graph algorithms on index graphs (petgraph): topological order and cycle reports. A leaf: the
//! pipeline language orders stages with it, the plan orders instances.

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

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
