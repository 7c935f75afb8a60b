//! Several intrusive doubly linked lists over one slab of nodes, linked by index.
//!
//! ARC keeps four lists (T1, T2, B1, B2) and moves an entry between them on most requests, so
//! every move must be O(1) and allocation-free. Nodes live in one `Vec` and point at each other
//! by index; a freed slot is chained into a free list through its `next` field and reused by
//! the next push. Each list keeps its length and the sum of its nodes' weights (bytes), so the
//! ARC bounds are checked without walking anything.
//!
//! Invariants (checked by [`LinkedSlab::check`]): every occupied node is on exactly one list;
//! `prev`/`next` agree in both directions; each list's `len` and `weight` are the count and
//! the weight sum of its nodes; free nodes hold no item; at most [`MAX_NODES`] nodes.
//!
//! Links are `u32` and nodes are aligned to a cache line: for the page cache's keys a node is
//! exactly one line, so a hit's relinking touches as few lines as possible.

/// A node index as stored in the links.
type Link = u32;

/// The "no node" link.
const NIL: Link = Link::MAX;

/// The most nodes one slab holds (every `Link` but `NIL`).
pub(crate) const MAX_NODES: usize = NIL as usize;

/// Bytes of one list head; list 0's head spans the first this many bytes of a slab.
pub(crate) const LIST_HEAD_BYTES: usize = size_of::<ListHead>();
const _: () = assert!(std::mem::offset_of!(LinkedSlab<(), 1>, lists) == 0, "list heads come first");

/// One slot of the slab.
#[derive(Debug)]
#[repr(align(64))]
struct Node<T> {
    weight: usize,
    prev: Link,
    next: Link,
    list: u8,
    item: Option<T>,
}

/// The ends, length and weight sum of one list.
#[derive(Debug, Clone, Copy)]
struct ListHead {
    /// Most recently pushed node (MRU end).
    head: Link,
    /// Least recently pushed node (LRU end).
    tail: Link,
    len: usize,
    weight: usize,
}

impl ListHead {
    const EMPTY: Self = Self { head: NIL, tail: NIL, len: 0, weight: 0 };
}

/// `N` doubly linked lists sharing one slab of nodes that carry an item of type `T` and a
/// weight. Node indices stay valid until the node is removed.
///
/// `repr(C)` with the list heads first, so that an owner can put the head of its busiest
/// list (list 0) in the cache line of its lock (see `shard.rs`).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct LinkedSlab<T, const N: usize> {
    lists: [ListHead; N],
    nodes: Vec<Node<T>>,
    /// Head of the chain of free slots, linked through `next`.
    free: Link,
    occupied: usize,
}

impl<T, const N: usize> LinkedSlab<T, N> {
    /// An empty slab.
    pub(crate) fn new() -> Self {
        Self { lists: [ListHead::EMPTY; N], nodes: Vec::new(), free: NIL, occupied: 0 }
    }

    /// Number of nodes on `list`.
    pub(crate) fn len(&self, list: usize) -> usize {
        self.lists[list].len
    }

    /// Sum of the weights of the nodes on `list`.
    pub(crate) fn weight_of(&self, list: usize) -> usize {
        self.lists[list].weight
    }

    /// Number of occupied nodes on all lists.
    pub(crate) fn occupied(&self) -> usize {
        self.occupied
    }

    /// Whether a push would exceed [`MAX_NODES`].
    pub(crate) fn is_full(&self) -> bool {
        self.free == NIL && self.nodes.len() >= MAX_NODES
    }

    /// The list that node `idx` is on. REQUIRES: `idx` is occupied.
    #[inline]
    pub(crate) fn list_of(&self, idx: usize) -> usize {
        usize::from(self.nodes[idx].list)
    }

    /// The weight of node `idx`. REQUIRES: `idx` is occupied.
    pub(crate) fn weight(&self, idx: usize) -> usize {
        self.nodes[idx].weight
    }

    /// The item of node `idx`. REQUIRES: `idx` is occupied.
    #[inline]
    pub(crate) fn item(&self, idx: usize) -> &T {
        self.nodes[idx].item.as_ref().expect("LinkedSlab::item on a free node")
    }

    /// The item of node `idx`, mutably. REQUIRES: `idx` is occupied.
    pub(crate) fn item_mut(&mut self, idx: usize) -> &mut T {
        self.nodes[idx].item.as_mut().expect("LinkedSlab::item_mut on a free node")
    }

    /// The least recently pushed node of `list`.
    pub(crate) fn back(&self, list: usize) -> Option<usize> {
        let tail = self.lists[list].tail;
        (tail != NIL).then_some(tail as usize)
    }

    /// The node pushed just after `idx` on its list (one step towards the MRU end).
    pub(crate) fn newer(&self, idx: usize) -> Option<usize> {
        let prev = self.nodes[idx].prev;
        (prev != NIL).then_some(prev as usize)
    }

    /// Pushes a new node at the MRU end of `list` and returns its index.
    /// REQUIRES: `!self.is_full()` and `list < N`.
    pub(crate) fn push_front(&mut self, list: usize, weight: usize, item: T) -> usize {
        assert!(!self.is_full(), "LinkedSlab::push_front beyond MAX_NODES");
        let node = Node { weight, prev: NIL, next: NIL, list: list as u8, item: Some(item) };
        let idx = if self.free == NIL {
            self.nodes.push(node);
            self.nodes.len() - 1
        } else {
            let idx = self.free as usize;
            self.free = self.nodes[idx].next;
            debug_assert!(self.nodes[idx].item.is_none(), "free slot {idx} holds an item");
            self.nodes[idx] = node;
            idx
        };
        self.occupied += 1;
        self.link_front(idx, list);
        idx
    }

    /// Removes node `idx` and returns its item. REQUIRES: `idx` is occupied.
    pub(crate) fn remove(&mut self, idx: usize) -> T {
        self.unlink(idx);
        let node = &mut self.nodes[idx];
        let item = node.item.take().expect("LinkedSlab::remove on a free node");
        node.next = self.free;
        node.prev = NIL;
        node.weight = 0;
        self.free = idx as Link;
        self.occupied -= 1;
        item
    }

    /// Moves node `idx` to the MRU end of `list` (which may be its own list).
    /// REQUIRES: `idx` is occupied.
    #[inline]
    pub(crate) fn move_to_front(&mut self, idx: usize, list: usize) {
        if self.list_of(idx) == list && self.lists[list].head as usize == idx {
            return;
        }
        self.unlink(idx);
        self.link_front(idx, list);
    }

    /// Indices of all occupied nodes, in slab order.
    pub(crate) fn occupied_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes.iter().enumerate().filter(|(_, n)| n.item.is_some()).map(|(i, _)| i)
    }

    /// Drops every node and releases the slab's memory.
    pub(crate) fn clear(&mut self) {
        *self = Self::new();
    }

    #[inline]
    fn link_front(&mut self, idx: usize, list: usize) {
        let old_head = self.lists[list].head;
        {
            let node = &mut self.nodes[idx];
            node.list = list as u8;
            node.prev = NIL;
            node.next = old_head;
        }
        if old_head == NIL {
            self.lists[list].tail = idx as Link;
        } else {
            self.nodes[old_head as usize].prev = idx as Link;
        }
        let head = &mut self.lists[list];
        head.head = idx as Link;
        head.len += 1;
        head.weight += self.nodes[idx].weight;
    }

    #[inline]
    fn unlink(&mut self, idx: usize) {
        let Node { prev, next, list, weight, .. } = self.nodes[idx];
        let list = usize::from(list);
        if prev == NIL {
            self.lists[list].head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.lists[list].tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        let head = &mut self.lists[list];
        debug_assert!(head.len > 0 && head.weight >= weight, "list {list} accounting underflow");
        head.len -= 1;
        head.weight -= weight;
    }

    /// Walks every list and checks the invariants in the module doc. O(nodes).
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut seen = 0usize;
        for (list, head) in self.lists.iter().enumerate() {
            let (mut len, mut weight, mut prev, mut cur) = (0usize, 0usize, NIL, head.head);
            while cur != NIL {
                let node = self
                    .nodes
                    .get(cur as usize)
                    .ok_or(format!("list {list}: index {cur} out of range"))?;
                if node.item.is_none() || usize::from(node.list) != list || node.prev != prev {
                    return Err(format!("list {list}: node {cur} is free, misfiled or mislinked"));
                }
                len += 1;
                weight += node.weight;
                if len > self.nodes.len() {
                    return Err(format!("list {list}: cycle"));
                }
                prev = cur;
                cur = node.next;
            }
            if prev != head.tail || len != head.len || weight != head.weight {
                return Err(format!(
                    "list {list}: tail/len/weight {}/{}/{} but walked {prev}/{len}/{weight}",
                    head.tail, head.len, head.weight
                ));
            }
            seen += len;
        }
        let holding = self.nodes.iter().filter(|n| n.item.is_some()).count();
        if seen != holding || holding != self.occupied || self.nodes.len() > MAX_NODES {
            return Err(format!(
                "{seen} linked nodes, {holding} hold items, {} counted",
                self.occupied
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::LinkedSlab;

    fn items(slab: &LinkedSlab<u32, 2>, list: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = slab.back(list);
        while let Some(idx) = cur {
            out.push(*slab.item(idx));
            cur = slab.newer(idx);
        }
        out
    }

    #[test]
    fn push_move_remove_keep_order_and_weights() {
        let mut slab = LinkedSlab::<u32, 2>::new();
        let a = slab.push_front(0, 10, 1);
        let b = slab.push_front(0, 20, 2);
        let c = slab.push_front(0, 30, 3);
        assert_eq!(items(&slab, 0), [1, 2, 3], "LRU to MRU");
        assert_eq!(slab.weight_of(0), 60);

        slab.move_to_front(a, 0);
        assert_eq!(items(&slab, 0), [2, 3, 1]);
        slab.move_to_front(b, 1);
        assert_eq!(items(&slab, 0), [3, 1]);
        assert_eq!(items(&slab, 1), [2]);
        assert_eq!((slab.weight_of(0), slab.weight_of(1)), (40, 20));
        assert_eq!(slab.list_of(b), 1);

        assert_eq!(slab.remove(c), 3);
        assert_eq!(items(&slab, 0), [1]);
        assert_eq!(slab.occupied(), 2);
        slab.check().unwrap();
    }

    #[test]
    fn a_page_cache_node_is_one_cache_line() {
        // The engines' key: (file id, page id) with a hash, an `Arc` value, and the links.
        type PageEntry = ((u64, u64), u64, Option<std::sync::Arc<[u8]>>);
        assert_eq!(size_of::<super::Node<((u64, u64), u64, Option<std::sync::Arc<u8>>)>>(), 64);
        assert!(size_of::<super::Node<PageEntry>>() <= 128);
        assert_eq!(align_of::<super::Node<u8>>(), 64);
    }

    #[test]
    fn freed_slots_are_reused() {
        let mut slab = LinkedSlab::<u32, 2>::new();
        let a = slab.push_front(0, 1, 1);
        slab.push_front(0, 1, 2);
        slab.remove(a);
        let d = slab.push_front(1, 5, 4);
        assert_eq!(d, a, "the freed slot is reused");
        assert_eq!(slab.occupied_indices().count(), 2);
        assert_eq!(items(&slab, 1), [4]);
        slab.check().unwrap();
        slab.clear();
        assert_eq!((slab.len(0), slab.len(1), slab.occupied()), (0, 0, 0));
    }
}
