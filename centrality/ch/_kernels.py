"""numba kernels of the customizable contraction hierarchy (CCH). Everything runs in *rank
space*: node ``x`` is the x-th node of the elimination order (0 = contracted first).

Notation: ``N+(x)`` = upper neighbours of x in the chordal supergraph (sorted ascending, stored
as ``up[up_ptr[x]:up_ptr[x+1]]``); arc ``e`` = the e-th entry, the undirected edge {x, up[e]}
with ``x < up[e]``; ``w_up[e]`` = time (s) of the directed edge x -> up[e] (upwards),
``w_down[e]`` = time of up[e] -> x (downwards). ``N-(y)`` = lower neighbours of y, listed by
:func:`lower_lists`. The first entry of N+(x) is x's parent in the elimination tree; the order
is a postorder of that tree, so the subtree of x is the rank range ``[x - size(x) + 1, x]``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

LANES = 16  # origins per sweep (labels per node); 16 float64 = 2 AVX-512 / 4 AVX2 registers


@njit(cache=True, nogil=True)
def _grown(a, n, cap):
    """A copy of ``a[:n]`` in a new array of length ``cap`` (same dtype)."""
    out = np.empty(cap, dtype=a.dtype)
    out[:n] = a[:n]
    return out


@njit(cache=True, nogil=True)
def _grown_rows(a, n, cap):
    """A copy of the rows ``a[:n]`` of a 2-D array in a new one of ``cap`` rows (same dtype)."""
    out = np.empty((cap, a.shape[1]), dtype=a.dtype)
    out[:n] = a[:n]
    return out


@njit(cache=True, nogil=True, inline="always")
def _climb(x, up_ptr, up, mark, nodes, cnt):
    """Append ``x`` and its elimination-tree ancestors up to the first marked one to
    ``nodes[:cnt]`` (ascending rank), marking them; returns ``(nodes, cnt)`` (``nodes`` grown
    when full)."""
    while x != -1 and not mark[x]:
        mark[x] = True
        if cnt == nodes.shape[0]:
            nodes = _grown(nodes, cnt, 2 * cnt)
        nodes[cnt] = x
        cnt += 1
        x = up[up_ptr[x]] if up_ptr[x + 1] > up_ptr[x] else -1
    return nodes, cnt


# ------------------------------------------------------------------------------ topology
@njit(cache=True, nogil=True)
def etree_liu(indptr, adj, n):
    """Elimination tree of a graph in rank space (Liu's algorithm with path compression):
    parent[x] = smallest rank of x's upper neighbours in the chordal supergraph, -1 for roots."""
    parent = np.full(n, -1, np.int64)
    anc = np.full(n, -1, np.int64)
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = adj[e]
            if j >= i:
                continue
            r = j
            while anc[r] != -1 and anc[r] != i:
                t = anc[r]
                anc[r] = i
                r = t
            if anc[r] == -1:
                anc[r] = i
                parent[r] = i
    return parent


@njit(cache=True, nogil=True)
def postorder(parent, n):
    """A postorder of the forest ``parent`` (children in ascending order): post[k] = old rank."""
    head = np.full(n, -1, np.int64)
    nxt = np.full(n, -1, np.int64)
    for v in range(n - 1, -1, -1):
        p = parent[v]
        if p >= 0:
            nxt[v] = head[p]
            head[p] = v
    post = np.empty(n, np.int64)
    stack = np.empty(n, np.int64)
    k = 0
    for r in range(n):
        if parent[r] != -1:
            continue
        stack[0] = r
        sp = 1
        while sp > 0:
            v = stack[sp - 1]
            c = head[v]
            if c != -1:
                head[v] = nxt[c]
                stack[sp] = c
                sp += 1
            else:
                sp -= 1
                post[k] = v
                k += 1
    return post


@njit(cache=True, nogil=True)
def symbolic(indptr, adj, n):
    """Chordal supergraph of a graph in rank space (contraction in rank order, metric-free):
    N+(x) = original upper neighbours of x united with N+(c) minus x for every child c of x in
    the elimination tree. Returns (up_ptr int64[n+1], up int32[m])."""
    up_ptr = np.zeros(n + 1, np.int64)
    up = np.empty(max(16, 4 * indptr[n]), np.int32)
    mark = np.full(n, -1, np.int64)
    child_head = np.full(n, -1, np.int64)
    sib = np.full(n, -1, np.int64)
    buf = np.empty(n, np.int64)
    m = 0
    for x in range(n):
        k = 0
        for e in range(indptr[x], indptr[x + 1]):
            y = adj[e]
            if y > x and mark[y] != x:
                mark[y] = x
                buf[k] = y
                k += 1
        c = child_head[x]
        while c != -1:
            for e in range(up_ptr[c], up_ptr[c + 1]):
                y = up[e]
                if y != x and mark[y] != x:
                    mark[y] = x
                    buf[k] = y
                    k += 1
            c = sib[c]
        s = np.sort(buf[:k])
        if m + k > up.shape[0]:
            up = _grown(up, m, max(2 * up.shape[0], m + k))
        for i in range(k):
            up[m + i] = s[i]
        m += k
        up_ptr[x + 1] = m
        if k > 0:
            p = s[0]
            sib[x] = child_head[p]
            child_head[p] = x
    return up_ptr, up[:m].copy()


@njit(cache=True, nogil=True)
def lower_lists(up_ptr, up, n):
    """N-(y) for every y: (lo_ptr int64[n+1], lo_x int32 lower node, lo_e int64 arc (x, y)),
    sorted by x within each y."""
    m = up.shape[0]
    lo_ptr = np.zeros(n + 1, np.int64)
    for e in range(m):
        lo_ptr[up[e] + 1] += 1
    for y in range(n):
        lo_ptr[y + 1] += lo_ptr[y]
    fill = lo_ptr[:-1].copy()
    lo_x = np.empty(m, np.int32)
    lo_e = np.empty(m, np.int64)
    for x in range(n):
        for e in range(up_ptr[x], up_ptr[x + 1]):
            y = up[e]
            k = fill[y]
            fill[y] += 1
            lo_x[k] = x
            lo_e[k] = e
    return lo_ptr, lo_x, lo_e


@njit(cache=True, nogil=True)
def heights(up_ptr, up, n):
    """Height of every node in the elimination tree (leaves 0)."""
    h = np.zeros(n, np.int64)
    for x in range(n):
        if up_ptr[x + 1] > up_ptr[x]:
            p = up[up_ptr[x]]
            if h[x] + 1 > h[p]:
                h[p] = h[x] + 1
    return h


@njit(cache=True, nogil=True, boundscheck=False)
def node_work(up_ptr, lo_ptr, lo_x, lo_e, n):
    """Lower triangles of each node (its customisation work) plus one."""
    own = np.ones(n, np.int64)
    for y in range(n):
        w = 1
        for k in range(lo_ptr[y], lo_ptr[y + 1]):
            w += up_ptr[lo_x[k] + 1] - lo_e[k]
        own[y] = w
    return own


@njit(cache=True, nogil=True)
def cut_subtrees(up_ptr, up, own, n, limit):
    """Maximal subtrees whose total work is <= ``limit``: returns (starts, ends) of their rank
    ranges (postorder: a subtree is [x - size + 1, x]) and the remaining top nodes (ascending)."""
    tot = own.copy()
    size = np.ones(n, np.int64)
    for x in range(n):
        if up_ptr[x + 1] > up_ptr[x]:
            p = up[up_ptr[x]]
            tot[p] += tot[x]
            size[p] += size[x]
    small = np.zeros(n, np.bool_)
    for x in range(n):
        small[x] = tot[x] <= limit
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    top = np.empty(n, np.int64)
    k = 0
    t = 0
    for x in range(n):
        p = up[up_ptr[x]] if up_ptr[x + 1] > up_ptr[x] else -1
        if small[x] and (p == -1 or not small[p]):
            starts[k] = x - size[x] + 1
            ends[k] = x + 1
            k += 1
        elif not small[x]:
            top[t] = x
            t += 1
    return starts[:k].copy(), ends[:k].copy(), top[:t].copy()


@njit(cache=True, nogil=True, boundscheck=False)
def customize_ranges(starts, ends, up_ptr, up, lo_ptr, lo_x, lo_e, w_up, w_down, amap):
    """:func:`customize_nodes` over the rank ranges [starts[i], ends[i]) in rank order."""
    for i in range(starts.shape[0]):
        customize_nodes(np.arange(starts[i], ends[i]), up_ptr, up, lo_ptr, lo_x, lo_e, w_up, w_down, amap)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _find_in(up, lo, end, b):
    """Index of b in the sorted ``up[lo:end]``, or -1."""
    hi = end
    while lo < hi:
        mid = (lo + hi) >> 1
        if up[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    if lo < end and up[lo] == b:
        return lo
    return -1


@njit(cache=True, nogil=True, boundscheck=False)
def find_arc(up_ptr, up, a, b):
    """Arc index of {a, b} (a < b) in N+(a), or -1 if the chordal supergraph has no such arc."""
    return _find_in(up, up_ptr[a], up_ptr[a + 1], b)


# ------------------------------------------------------------------------------ metric
@njit(cache=True, nogil=True, boundscheck=False)
def input_weights(up_ptr, up, rank, indptr, head, wt):
    """Arc weights from the original directed edges: minimum over parallel edges, inf where a
    direction has no edge (self loops are ignored: never on a shortest path)."""
    m = up.shape[0]
    n0 = indptr.shape[0] - 1
    w_up = np.full(m, np.inf)
    w_down = np.full(m, np.inf)
    for a in range(n0):
        ra = rank[a]
        for e in range(indptr[a], indptr[a + 1]):
            rb = rank[head[e]]
            if ra == rb:
                continue
            if ra < rb:
                f = find_arc(up_ptr, up, ra, rb)
                if wt[e] < w_up[f]:
                    w_up[f] = wt[e]
            else:
                f = find_arc(up_ptr, up, rb, ra)
                if wt[e] < w_down[f]:
                    w_down[f] = wt[e]
    return w_up, w_down


@njit(cache=True, nogil=True, boundscheck=False)
def customize_nodes(nodes, up_ptr, up, lo_ptr, lo_x, lo_e, w_up, w_down, amap):
    """Basic customization of the upper arcs of each node y in ``nodes`` (pull over y's lower
    triangles x < y < z: y->x->z improves w_up(y,z), z->x->y improves w_down(y,z)). Writes only
    y's arcs and reads arcs of lower nodes, so nodes of one elimination-tree level can run in
    parallel. ``amap`` is an int64[n] scratch array. Weights must hold the input weights."""
    for i in range(nodes.shape[0]):
        y = nodes[i]
        for e in range(up_ptr[y], up_ptr[y + 1]):
            amap[up[e]] = e
        for k in range(lo_ptr[y], lo_ptr[y + 1]):
            x = lo_x[k]
            ex = lo_e[k]
            wd = w_down[ex]
            wu = w_up[ex]
            if wd == np.inf and wu == np.inf:
                continue
            for f in range(ex + 1, up_ptr[x + 1]):   # branch-free: the outcomes are unpredictable
                g = amap[up[f]]
                w_up[g] = min(w_up[g], wd + w_up[f])
                w_down[g] = min(w_down[g], w_down[f] + wu)


@njit(cache=True, nogil=True, boundscheck=False)
def recompute_arc(e, a, b, up_ptr, up, lo_ptr, lo_x, lo_e, in_up, in_down, w_up, w_down):
    """Weights (up, down) of arc e = {a, b} (a < b) from scratch: its input weights and all its
    lower triangles {x, a, b} with x in N-(a) and b in N+(x)."""
    nu = in_up[e]
    nd = in_down[e]
    for k in range(lo_ptr[a], lo_ptr[a + 1]):
        x = lo_x[k]
        ex = lo_e[k]
        f = _find_in(up, ex + 1, up_ptr[x + 1], b)   # is b in N+(x) after a?
        if f >= 0:
            nu = min(nu, w_down[ex] + w_up[f])
            nd = min(nd, w_down[f] + w_up[ex])
    return nu, nd


@njit(cache=True, nogil=True, boundscheck=False)
def _heap_push(heap, size, x):
    if size == heap.shape[0]:
        heap = _grown(heap, size, 2 * size)
    j = size
    while j > 0 and heap[(j - 1) >> 1] > x:
        heap[j] = heap[(j - 1) >> 1]
        j = (j - 1) >> 1
    heap[j] = x
    return heap, size + 1


@njit(cache=True, nogil=True, boundscheck=False)
def _heap_pop(heap, size):
    top = heap[0]
    size -= 1
    last = heap[size]
    j = 0
    while True:
        c = 2 * j + 1
        if c >= size:
            break
        if c + 1 < size and heap[c + 1] < heap[c]:
            c += 1
        if heap[c] >= last:
            break
        heap[j] = heap[c]
        j = c
    heap[j] = last
    return top, size


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _relax_vals(eu, ed, ebu, ebd, fu, fd, fbu, fbd, g, w_up, w_down, redo):
    """Triangle (x, w, z) with x lowest: arc e = (x, w) with new weights ``eu``/``ed`` and base
    weights ``ebu``/``ebd``, arc f = (x, z) likewise ``fu``/``fd``/``fbu``/``fbd``, g = arc {w, z}
    (w < z): the new candidates are minimised into g; a candidate that rose while it was a
    minimiser of g's base weight flags g for recomputation from scratch. Branch-free (the
    outcomes are unpredictable)."""
    n1 = ed + fu                       # w -> x -> z
    o1 = ebd + fbu
    c1 = w_up[g]
    w_up[g] = min(c1, n1)
    n2 = fd + eu                       # z -> x -> w
    o2 = fbd + ebu
    c2 = w_down[g]
    w_down[g] = min(c2, n2)
    redo[g] = redo[g] | ((n1 > o1) & (o1 <= c1)) | ((n2 > o2) & (o2 <= c2))


@njit(cache=True, nogil=True, boundscheck=False)
def _absorb(w, m, msg_i, msg_w, chg_head, chg_val, up, w_up, w_down, b_up, b_down, amap, redo, valid):
    """Step 1 of :func:`customize_part` at node ``w`` for one inbox list (first message ``m``):
    the candidates of w's arcs from the lower triangles the messages name are minimised in."""
    while m != -1:
        eu = msg_w[m, 0]
        ed = msg_w[m, 1]
        ebu = msg_w[m, 2]
        ebd = msg_w[m, 3]
        lo = msg_i[m, 1]
        hi = msg_i[m, 2]
        # a triangle whose new and base candidates are above valid in both directions can
        # neither lower g to valid or below nor matter for g's recomputation (customize_part)
        ld = min(ed, ebd)
        lu = min(eu, ebu)
        if msg_i[m, 3] == 1:
            for f in range(lo, hi):
                fu = w_up[f]
                fd = w_down[f]
                fbu = b_up[f]
                fbd = b_down[f]
                if ld + min(fu, fbu) > valid and lu + min(fd, fbd) > valid:
                    continue
                _relax_vals(eu, ed, ebu, ebd, fu, fd, fbu, fbd, amap[up[f]], w_up, w_down, redo)
        else:  # the sender's changed arcs above w: the end of its (head-sorted) compact record
            q = hi - 1
            while q >= lo and chg_head[q] > w:
                fu = chg_val[q, 0]
                fd = chg_val[q, 1]
                fbu = chg_val[q, 2]
                fbd = chg_val[q, 3]
                if ld + min(fu, fbu) <= valid or lu + min(fd, fbd) <= valid:
                    _relax_vals(eu, ed, ebu, ebd, fu, fd, fbu, fbd, amap[chg_head[q]], w_up, w_down, redo)
                q -= 1
        m = msg_i[m, 0]


@njit(cache=True, nogil=True, boundscheck=False)
def seed_nodes(seeds, up_ptr, redo, n):
    """Flag the seed arcs for recomputation (``redo``) and return their lower endpoints (sorted,
    unique, int64): the nodes a partial re-customisation starts from."""
    low = np.empty(seeds.shape[0], np.int64)
    for i in range(seeds.shape[0]):
        e = seeds[i]
        redo[e] = True
        lo = 0
        hi = n
        while hi - lo > 1:                     # lower endpoint of arc e
            mid = (lo + hi) >> 1
            if up_ptr[mid] <= e:
                lo = mid
            else:
                hi = mid
        low[i] = lo
    return np.unique(low)


@njit(cache=True, nogil=True)
def _two_bins(items, sub, bins):
    """Greedy two-way partition of ``items`` (positions) by ``sub`` (heaviest first, each to the
    lighter bin): writes each item's bin to ``bins`` and returns the heavier bin's total."""
    order = np.argsort(-sub[items])
    a = 0
    b = 0
    for j in range(order.shape[0]):
        i = items[order[j]]
        if a <= b:
            a += sub[i]
            bins[i] = 0
        else:
            b += sub[i]
            bins[i] = 1
    return max(a, b)


@njit(cache=True, nogil=True)
def split_two(starts, up_ptr, up, work, n, mark, owner):
    """Two halves and a top for a partial re-customisation from ``starts`` on two threads.

    Every node the re-customisation can process is an elimination-tree ancestor of a start (a
    node's upper neighbours are its ancestors), so the union U of the starts' root paths holds
    them all. Subtrees of U that hang off a path from the root (the *spine*) share no arc: a
    node's lower neighbours lie in its own subtree. The spine starts at the root(s) and goes
    down through the heaviest hanging subtree while that does not raise the estimated time
    ``spine work + heavier half``; the hanging subtrees are then split into two halves of about
    equal ``work`` (int64 per-node estimate, e.g. :func:`node_work`; heaviest first, each to the
    lighter half). ``owner`` (int8[n]) gets 0 or 1 (the halves) or 2 (the spine, the top) at
    the nodes of U — the only nodes a re-customisation from ``starts`` queues. ``mark``
    (bool[n], all False) is restored.

    Returns
    -------
    (work of half 0, work of half 1, work of the top) — int64; a half is 0 when U is a path.
    """
    nodes = np.empty(1024, np.int64)
    cnt = 0
    for i in range(starts.shape[0]):
        nodes, cnt = _climb(starts[i], up_ptr, up, mark, nodes, cnt)
    u = np.sort(nodes[:cnt])
    for i in range(cnt):
        mark[u[i]] = False
    par = np.full(cnt, -1, np.int64)
    for i in range(cnt):
        x = u[i]
        if up_ptr[x + 1] > up_ptr[x]:
            par[i] = np.searchsorted(u, up[up_ptr[x]])
    sub = np.empty(cnt, np.int64)
    kid_ptr = np.zeros(cnt + 1, np.int64)
    for i in range(cnt):
        sub[i] = work[u[i]]
    for i in range(cnt):                       # ascending rank: children before parents
        p = par[i]
        if p >= 0:
            sub[p] += sub[i]
            kid_ptr[p + 1] += 1
    for i in range(cnt):
        kid_ptr[i + 1] += kid_ptr[i]
    kids = np.empty(max(kid_ptr[cnt], 1), np.int64)
    fill = kid_ptr[:cnt].copy()
    for i in range(cnt):
        p = par[i]
        if p >= 0:
            kids[fill[p]] = i
            fill[p] += 1
    half = np.zeros(cnt, np.int8)
    spine = np.zeros(cnt, np.bool_)
    cand = np.flatnonzero(par == -1)
    spine_work = 0
    cost = spine_work + _two_bins(cand, sub, half)
    for _ in range(cnt):
        if cand.shape[0] == 0:
            break
        h = cand[np.argmax(sub[cand])]
        nk = kid_ptr[h + 1] - kid_ptr[h]
        if nk == 0:
            break
        nxt = np.empty(cand.shape[0] - 1 + nk, np.int64)
        k = 0
        for j in range(cand.shape[0]):
            if cand[j] != h:
                nxt[k] = cand[j]
                k += 1
        for j in range(kid_ptr[h], kid_ptr[h + 1]):
            nxt[k] = kids[j]
            k += 1
        new_cost = spine_work + work[u[h]] + _two_bins(nxt, sub, half)
        if new_cost > cost:
            break
        spine[h] = True
        spine_work += work[u[h]]
        cand = nxt
        cost = new_cost
    _two_bins(cand, sub, half)
    wa = 0
    wb = 0
    for j in range(cand.shape[0]):
        if half[cand[j]] == 0:
            wa += sub[cand[j]]
        else:
            wb += sub[cand[j]]
    is_cand = np.zeros(cnt, np.bool_)
    is_cand[cand] = True
    for i in range(cnt - 1, -1, -1):           # descending rank: parents before children
        x = u[i]
        if spine[i]:
            owner[x] = 2
        elif is_cand[i]:
            owner[x] = half[i]
        else:
            owner[x] = owner[u[par[i]]]
    return wa, wb, spine_work


@njit(cache=True, nogil=True, boundscheck=False)
def customize_part(starts, owner, me, up_ptr, up, lo_ptr, lo_x, lo_e, in_up, in_down, b_up, b_down, w_up,
                   w_down, redo, is_chg, n, valid, queued, inbox, chg_beg, amap, ext_a, ext_b):
    """Re-customise, after the input weights of some arcs changed (increases and decreases),
    the nodes of part ``me`` (``owner[y] == me``; ``me = -1``: every node) that the change
    reaches.

    ``starts``: the nodes to begin with (:func:`seed_nodes` of the changed arcs, which also flags
    them in ``redo``; for a later part also the nodes other parts exported to it).
    ``b_up``/``b_down``: the fully customised base weights; ``w_up``/``w_down``: a copy of them,
    updated in place; ``in_up``/``in_down``: the new input weights; ``redo``, ``is_chg``: bool[m]
    scratch (all False, and False again on return); ``queued`` (bool[n], all False), ``inbox``
    (int64[n], all -1), ``amap`` (int64[n]): this part's scratch, restored on return except at
    exported nodes; ``chg_beg`` (int64[n]): per-node scratch shared by the parts (no fresh
    memory per scenario). Nodes are processed in ascending rank, each once:

    1. candidates of the node's arcs from lower triangles that contain a *changed* lower arc
       (nodes record their changed arcs when they are finished) are minimised in (a triangle
       whose candidate rose while it was a minimiser of the base weight flags the arc);
    2. flagged arcs (and seeds) are recomputed from scratch over all their lower triangles;
    3. the node's changed arcs are recorded and its upper neighbours up to the highest changed
       one are queued (they are the nodes whose triangles contain them).

    Every arc ends with the minimum over the same candidate sums as a full customisation, so
    the weights are bit-identical (tested) when ``valid`` is inf. A finite ``valid`` (seconds)
    makes the result exact only up to it: a weight that is above ``valid`` both in the base and
    now keeps its base value (and is not propagated); a message whose arc is above ``valid`` in
    both metrics and both directions is not sent; a triangle whose new and base candidates are
    both above ``valid`` in both directions is not relaxed; and a flagged arc whose input, base
    and current weights are all above ``valid`` is not recomputed. Why the last two are exact:
    such a triangle can neither bring g to ``valid`` or below nor be g's base minimiser unless
    g's base weight is above ``valid`` too, and then g's new weight is <= ``valid`` only through
    a candidate that is relaxed (unchanged candidates are >= the base weight; a flagged arc's
    current weight is the minimum of its base weight and every relaxed candidate, floating-point
    addition being monotone). Every weight is then exact where the full customisation's is
    <= ``valid`` and above ``valid`` where that one is (tested), so queries bounded by
    ``valid`` are exact.

    Parts. One part with ``me = -1`` (``owner`` of length 0, no sources) is the whole
    re-customisation. Nodes of other parts that this part's changes reach are *exported*: their
    messages stay in this part's ``inbox`` and message arrays, and they are returned for a later
    part. Two threads (``ScenarioWorkspace.customize``): :func:`split_two`'s halves — they share
    no arc, and each node's lower neighbours lie in its own half — run at the same time, then
    the top reads both halves' messages through ``ext_a``/``ext_b`` = (inbox, msg_i, msg_w,
    chg_head, chg_val) of each (a part without such a source gets an ``inbox`` of length 0) and
    resets their inbox entries. The order in which a node's messages arrive does not change its
    weights: each ends as the minimum of the same candidate sums (a flag for recomputation that
    an earlier, lower candidate made unnecessary only changes how that minimum is found), so the
    split gives the weights of one pass, bit for bit (tested).

    Returns
    -------
    (nodes processed, arcs recomputed, changed arcs — those whose weights now differ from the
    base —, msg_i, msg_w, chg_head, chg_val, exported nodes)
    """
    heap = np.empty(64, np.int64)
    size = 0
    done = np.empty(1024, np.int64)          # processed nodes (their queued / inbox are reset)
    exported = np.empty(64, np.int64)
    n_exp = 0
    # inbox: linked list of messages per node w, one self-contained record per message about an
    # arc e = (x, w) of a finished lower node x: msg_i = (next, lo, hi, kind) — kind 1: e changed,
    # the triangles are x's arcs lo..hi-1 (above e); kind 0: e unchanged, the triangles are x's
    # changed records lo..hi-1 with heads above w — and msg_w = e's (new up, new down, base up,
    # base down) weights. The weights travel with the message: reading them from the arc arrays
    # at w would be a cache miss each.
    msg_i = np.empty((4096, 4), np.int64)
    msg_w = np.empty((4096, 4))
    n_msg = 0
    chg = np.empty(1024, np.int64)             # changed arcs, per node a head-sorted segment,
    chg_head = np.empty(1024, np.int64)        # with their heads and (new up, new down, base up,
    chg_val = np.empty((1024, 4))              # base down) weights in one compact record
    n_chg = 0
    for i in range(starts.shape[0]):
        x = starts[i]
        if not queued[x]:
            queued[x] = True
            heap, size = _heap_push(heap, size, x)
    n_nodes = 0
    n_re = 0
    ext_a_in = ext_a[0]
    ext_b_in = ext_b[0]
    while size > 0:
        w, size = _heap_pop(heap, size)
        if n_nodes == done.shape[0]:
            done = _grown(done, n_nodes, 2 * n_nodes)
        done[n_nodes] = w
        n_nodes += 1
        a0 = up_ptr[w]
        a1 = up_ptr[w + 1]
        for e in range(a0, a1):
            amap[up[e]] = e
        # 1. pushes from the lower nodes with changed arcs that posted to w's inbox(es)
        _absorb(w, inbox[w], msg_i, msg_w, chg_head, chg_val, up, w_up, w_down, b_up, b_down, amap, redo, valid)
        if ext_a_in.shape[0] > 0:
            _absorb(w, ext_a_in[w], ext_a[1], ext_a[2], ext_a[3], ext_a[4], up, w_up, w_down, b_up, b_down, amap,
                    redo, valid)
            ext_a_in[w] = -1
        if ext_b_in.shape[0] > 0:
            _absorb(w, ext_b_in[w], ext_b[1], ext_b[2], ext_b[3], ext_b[4], up, w_up, w_down, b_up, b_down, amap,
                    redo, valid)
            ext_b_in[w] = -1
        # 2. flagged arcs from scratch: per arc (binary searches) or one pull over the node
        n_redo = 0
        for e in range(a0, a1):
            if redo[e]:
                if (in_up[e] > valid and in_down[e] > valid and w_up[e] > valid and w_down[e] > valid
                        and b_up[e] > valid and b_down[e] > valid):
                    redo[e] = False     # every candidate is above valid: step 3 keeps the base values
                else:
                    n_redo += 1
        if n_redo > 0:
            n_re += n_redo
            pull = 0
            for k in range(lo_ptr[w], lo_ptr[w + 1]):
                pull += up_ptr[lo_x[k] + 1] - lo_e[k]
            nlow = lo_ptr[w + 1] - lo_ptr[w]
            if pull < 8 * n_redo * nlow:
                for e in range(a0, a1):
                    if redo[e]:
                        w_up[e] = in_up[e]
                        w_down[e] = in_down[e]
                for k in range(lo_ptr[w], lo_ptr[w + 1]):
                    x = lo_x[k]
                    ex = lo_e[k]
                    wd = w_down[ex]
                    wu = w_up[ex]
                    for f in range(ex + 1, up_ptr[x + 1]):
                        g = amap[up[f]]
                        if redo[g]:
                            c1 = wd + w_up[f]
                            if c1 < w_up[g]:
                                w_up[g] = c1
                            c2 = w_down[f] + wu
                            if c2 < w_down[g]:
                                w_down[g] = c2
            else:
                for e in range(a0, a1):
                    if redo[e]:
                        nu, nd = recompute_arc(e, w, up[e], up_ptr, up, lo_ptr, lo_x, lo_e, in_up, in_down,
                                               w_up, w_down)
                        w_up[e] = nu
                        w_down[e] = nd
            for e in range(a0, a1):
                redo[e] = False
        # 3. record the changed arcs; post to (and queue) the upper neighbours up to the highest
        #    changed one: exactly the nodes whose lower triangles contain a changed arc of w
        chg_beg[w] = n_chg
        top = -1
        for e in range(a0, a1):
            if w_up[e] != b_up[e] and w_up[e] > valid and b_up[e] > valid:
                w_up[e] = b_up[e]          # above valid before and after: keep the base value
            if w_down[e] != b_down[e] and w_down[e] > valid and b_down[e] > valid:
                w_down[e] = b_down[e]
            if w_up[e] != b_up[e] or w_down[e] != b_down[e]:
                if n_chg == chg.shape[0]:
                    chg = _grown(chg, n_chg, 2 * n_chg)
                    chg_head = _grown(chg_head, n_chg, 2 * n_chg)
                    chg_val = _grown_rows(chg_val, n_chg, 2 * n_chg)
                chg[n_chg] = e
                chg_head[n_chg] = up[e]
                chg_val[n_chg, 0] = w_up[e]
                chg_val[n_chg, 1] = w_down[e]
                chg_val[n_chg, 2] = b_up[e]
                chg_val[n_chg, 3] = b_down[e]
                n_chg += 1
                is_chg[e] = True
                top = up[e]
        if top >= 0:
            for e in range(a0, a1):
                y = up[e]
                if y > top:
                    break
                if not queued[y]:
                    queued[y] = True
                    if me < 0 or owner[y] == me:
                        heap, size = _heap_push(heap, size, y)
                    else:
                        if n_exp == exported.shape[0]:
                            exported = _grown(exported, n_exp, 2 * n_exp)
                        exported[n_exp] = y
                        n_exp += 1
                if w_up[e] > valid and w_down[e] > valid and b_up[e] > valid and b_down[e] > valid:
                    continue       # every candidate through e is above valid in both metrics
                if n_msg == msg_i.shape[0]:
                    msg_i = _grown_rows(msg_i, n_msg, 2 * n_msg)
                    msg_w = _grown_rows(msg_w, n_msg, 2 * n_msg)
                msg_i[n_msg, 0] = inbox[y]
                if is_chg[e]:
                    msg_i[n_msg, 1] = e + 1
                    msg_i[n_msg, 2] = a1
                    msg_i[n_msg, 3] = 1
                else:
                    msg_i[n_msg, 1] = chg_beg[w]
                    msg_i[n_msg, 2] = n_chg
                    msg_i[n_msg, 3] = 0
                msg_w[n_msg, 0] = w_up[e]
                msg_w[n_msg, 1] = w_down[e]
                msg_w[n_msg, 2] = b_up[e]
                msg_w[n_msg, 3] = b_down[e]
                inbox[y] = n_msg
                n_msg += 1
    for q in range(n_chg):
        is_chg[chg[q]] = False
    for i in range(n_nodes):
        queued[done[i]] = False
        inbox[done[i]] = -1
    for i in range(n_exp):
        queued[exported[i]] = False            # their inbox entries wait for the part that takes them
    return n_nodes, n_re, chg[:n_chg].copy(), msg_i, msg_w, chg_head, chg_val, exported[:n_exp].copy()


# ------------------------------------------------------------------------------ queries
@njit(cache=True, nogil=True)
def select_ancestors(up_ptr, up, n, targets):
    """Rank-descending list of the targets and all their elimination-tree ancestors."""
    mark = np.zeros(n, np.bool_)
    for i in range(targets.shape[0]):
        x = targets[i]
        while x != -1 and not mark[x]:
            mark[x] = True
            x = up[up_ptr[x]] if up_ptr[x + 1] > up_ptr[x] else -1
    cnt = 0
    for x in range(n):
        if mark[x]:
            cnt += 1
    out = np.empty(cnt, np.int64)
    k = 0
    for x in range(n - 1, -1, -1):
        if mark[x]:
            out[k] = x
            k += 1
    return out


@njit(cache=True, nogil=True)
def restrict(up_ptr, up, sel, n):
    """Search space restricted to ``sel`` (rank-descending, closed under ancestors), in *sweep
    positions* (position i = sel[i]; higher ranks first). Returns pos (rank -> position or -1),
    ptr/head (upper neighbours as positions), arc (the hierarchy arc of each restricted arc),
    par (parent position or -1) and size (number of selected nodes in the subtree, so the
    subtree of i is positions i .. i + size[i] - 1)."""
    ns = sel.shape[0]
    pos = np.full(n, -1, np.int64)
    for i in range(ns):
        pos[sel[i]] = i
    ptr = np.zeros(ns + 1, np.int64)
    for i in range(ns):
        x = sel[i]
        ptr[i + 1] = ptr[i] + up_ptr[x + 1] - up_ptr[x]
    head = np.empty(ptr[ns], np.int32)
    arc = np.empty(ptr[ns], np.int32)          # hierarchy arc ids (< 2^31: checked by the caller)
    par = np.full(ns, -1, np.int64)
    for i in range(ns):
        x = sel[i]
        k = ptr[i]
        for e in range(up_ptr[x], up_ptr[x + 1]):
            head[k] = pos[up[e]]
            arc[k] = e
            k += 1
        if up_ptr[x + 1] > up_ptr[x]:
            par[i] = pos[up[up_ptr[x]]]
    size = np.ones(ns, np.int64)
    for i in range(ns - 1, -1, -1):
        if par[i] >= 0:
            size[par[i]] += size[i]
    return pos, ptr, head, arc, par, size


@njit(cache=True, nogil=True, boundscheck=False)
def gather(w, idx, out):
    """out[i] = w[idx[i]] (restricted-space copy of hierarchy weights, in sweep order)."""
    for i in range(idx.shape[0]):
        out[i] = w[idx[i]]


@njit(cache=True, nogil=True, boundscheck=False)
def upward(ptr, head, wu, par, src, n_src, bounds, lab, stamp, bid, buf):
    """Upward searches of lanes 0..n_src-1 from positions ``src`` at once: the union of their
    elimination-tree paths (every upper neighbour is an ancestor, so no queue is needed) in
    ascending rank, LANES labels per node. Nodes beyond every lane's bound are not extended.
    Stamps the path nodes with ``bid`` (their labels are cleared first). ``buf``: int64 scratch
    of at least the number of positions."""
    cnt = 0
    for k in range(n_src):
        x = src[k]
        while x != -1 and stamp[x] != bid:
            stamp[x] = bid
            for j in range(LANES):
                lab[x, j] = np.inf
            buf[cnt] = x
            cnt += 1
            x = par[x]
    bmax = 0.0
    for k in range(n_src):
        lab[src[k], k] = 0.0
        if bounds[k] > bmax:
            bmax = bounds[k]
    nodes = np.sort(buf[:cnt])        # ascending position = descending rank
    for q in range(cnt - 1, -1, -1):
        x = nodes[q]
        m = np.inf
        for j in range(LANES):
            m = min(m, lab[x, j])
        if m > bmax:
            continue
        for e in range(ptr[x], ptr[x + 1]):
            y = head[e]
            w = wu[e]
            for j in range(LANES):
                lab[y, j] = min(lab[y, j], lab[x, j] + w)


@njit(cache=True, nogil=True, boundscheck=False)
def downward(ptr, head, wd, size, bound, lab, mn, stamp, vis, bid):
    """Downward sweep (RPHAST, pull form) over the restricted positions for LANES origins.

    Position i (descending rank) takes min over its upper neighbours u of lab[u] + w(u -> i) for
    every lane, starting from its upward label if it lies on an origin's path (stamp == bid).
    Arcs whose tail minimum ``mn[u]`` already exceeds ``bound`` are skipped. If every upper
    neighbour of i is beyond ``bound`` and no origin lies in i's subtree, nothing in the subtree
    can be within ``bound`` (its only entrances from above are i's upper neighbours), so the
    whole subtree is skipped. ``vis[i] = bid`` marks positions whose labels are valid."""
    ns = ptr.shape[0] - 1
    acc = np.empty(LANES)
    n_eval = 0
    i = 0
    while i < ns:
        st = stamp[i] == bid
        if st:
            for j in range(LANES):
                acc[j] = lab[i, j]
        else:
            for j in range(LANES):
                acc[j] = np.inf
        mz = np.inf
        for e in range(ptr[i], ptr[i + 1]):
            u = head[e]
            mu = mn[u]
            if mu < mz:
                mz = mu
            w = wd[e]
            if mu + w <= bound:
                for j in range(LANES):
                    acc[j] = min(acc[j], lab[u, j] + w)
        m = np.inf
        for j in range(LANES):
            lab[i, j] = acc[j]
            m = min(m, acc[j])
        mn[i] = m
        vis[i] = bid
        n_eval += 1
        if mz > bound and not st:
            i += size[i]
        else:
            i += 1
    return n_eval


@njit(cache=True, nogil=True, boundscheck=False)
def _emit_lane(k, lane_zone_ptr, lane_zone, access, cutoff, band, tl, out_o, out_d, out_t, n_out):
    """Emit lane k's pairs (capacity is guaranteed by the caller); on a total within ``band``
    of the cutoff, drop the lane's pairs and return (start, True)."""
    n_z = tl.shape[1]
    start = n_out
    for q in range(lane_zone_ptr[k], lane_zone_ptr[k + 1]):
        o = lane_zone[q]
        a_o = access[o]
        for z in range(n_z):
            t = a_o + tl[k, z] + access[z]
            if t <= cutoff + band:
                if t >= cutoff - band:
                    return start, True
                out_o[n_out] = o
                out_d[n_out] = z
                out_t[n_out] = t
                n_out += 1
    return n_out, False


@njit(cache=True, nogil=True, boundscheck=False)
def emit_batch(lane_zone_ptr, lane_zone, n_lanes, zone_pos, access, cutoff, band, lab, vis, bid, tl,
               out_o, out_d, out_t, n_out, ambiguous):
    """Pairs of the batch's origin zones with every zone whose total access_o + t + access_d is
    <= cutoff, destinations in zone order. A lane with a total within ``band`` of the cutoff is
    flagged in ``ambiguous`` and emits nothing (the caller recomputes it with Dijkstra).
    ``tl``: float64 scratch (LANES, n_zones)."""
    n_z = zone_pos.shape[0]
    for z in range(n_z):
        p = zone_pos[z]
        if vis[p] == bid:
            for k in range(n_lanes):
                tl[k, z] = lab[p, k]
        else:
            for k in range(n_lanes):
                tl[k, z] = np.inf
    for k in range(n_lanes):
        need = n_out + (lane_zone_ptr[k + 1] - lane_zone_ptr[k]) * n_z
        if need > out_o.shape[0]:
            cap = max(need, 2 * out_o.shape[0])
            out_o = _grown(out_o, n_out, cap)
            out_d = _grown(out_d, n_out, cap)
            out_t = _grown(out_t, n_out, cap)
        n_out, amb = _emit_lane(k, lane_zone_ptr, lane_zone, access, cutoff, band, tl, out_o, out_d, out_t, n_out)
        ambiguous[k] = amb
    return out_o, out_d, out_t, n_out


@njit(cache=True, nogil=True, boundscheck=False)
def od_batches(ptr, head, wu, wd, par, size, grp_pos, grp_ptr, grp_zone, g0, g1, zone_pos, access,
               min_access, cutoff, slack, band, lab, mn, stamp, vis, buf, tl, bid0):
    """Origin groups g0..g1 (each a node with its zones), LANES groups per sweep. Returns the
    pairs (origin, dest, seconds), the groups flagged ambiguous and the evaluated positions."""
    cap = 1 << 16
    out_o = np.empty(cap, np.int32)
    out_d = np.empty(cap, np.int32)
    out_t = np.empty(cap, np.float64)
    n_out = 0
    amb_groups = np.empty(g1 - g0, np.int64)
    n_amb = 0
    n_eval = 0
    src = np.empty(LANES, np.int64)
    bounds = np.empty(LANES)
    lane_zone_ptr = np.empty(LANES + 1, np.int64)
    ambiguous = np.zeros(LANES, np.bool_)
    bid = bid0
    for b0 in range(g0, g1, LANES):
        b1 = min(b0 + LANES, g1)
        nl = b1 - b0
        bmax = 0.0
        lane_zone_ptr[0] = 0
        for k in range(nl):
            g = b0 + k
            src[k] = grp_pos[g]
            a_min = np.inf
            for q in range(grp_ptr[g], grp_ptr[g + 1]):
                if access[grp_zone[q]] < a_min:
                    a_min = access[grp_zone[q]]
            bounds[k] = cutoff - a_min - min_access + slack + band
            if bounds[k] > bmax:
                bmax = bounds[k]
            lane_zone_ptr[k + 1] = lane_zone_ptr[k] + grp_ptr[g + 1] - grp_ptr[g]
        lane_zone = grp_zone[grp_ptr[b0]:grp_ptr[b1]]
        upward(ptr, head, wu, par, src, nl, bounds, lab, stamp, bid, buf)
        n_eval += downward(ptr, head, wd, size, bmax, lab, mn, stamp, vis, bid)
        out_o, out_d, out_t, n_out = emit_batch(lane_zone_ptr, lane_zone, nl, zone_pos, access, cutoff, band, lab,
                                                vis, bid, tl, out_o, out_d, out_t, n_out, ambiguous)
        for k in range(nl):
            if ambiguous[k]:
                amb_groups[n_amb] = b0 + k
                n_amb += 1
        bid += 1
    return out_o[:n_out].copy(), out_d[:n_out].copy(), out_t[:n_out].copy(), amb_groups[:n_amb].copy(), n_eval


@njit(cache=True, nogil=True, boundscheck=False)
def backward_up(up_ptr, up, w_down, sources, bound, b, mark):
    """Backward upward searches from all ``sources`` (ranks) at once: b[y] = shortest time from
    y down to the nearest source (paths that only go down in rank). Visits the union of the
    sources' elimination-tree paths in ascending rank; values above ``bound`` are not extended.
    ``b`` (float64[n], inf) and ``mark`` (bool[n], False) are written for the returned nodes.
    Given the upward weights instead of ``w_down``, it is the forward search: b[y] = shortest
    time from the nearest source up to y."""
    nodes = np.empty(64, np.int64)
    cnt = 0
    for i in range(sources.shape[0]):
        x = sources[i]
        b[x] = 0.0
        nodes, cnt = _climb(x, up_ptr, up, mark, nodes, cnt)
    nodes = np.sort(nodes[:cnt])
    for i in range(nodes.shape[0]):
        x = nodes[i]
        d = b[x]
        if d > bound:
            continue
        for e in range(up_ptr[x], up_ptr[x + 1]):
            y = up[e]
            c = w_down[e] + d
            if c < b[y]:
                b[y] = c
    return nodes


@njit(cache=True, nogil=True, boundscheck=False)
def to_sources_sweep(ptr, head, wu, size, sel, b, mark, bound, f, vis):
    """F(i) = seconds from restricted position i to the nearest source of :func:`backward_up`:
    min(b(i), min over upper neighbours u of w(i -> u) + F(u)), in descending rank. Subtrees
    whose upper neighbours are all beyond ``bound`` and that hold no marked node are skipped
    (then vis[i] stays 0: the value is > bound). Returns the number of evaluated positions.
    Given the downward weights (w(u -> i)) and a forward :func:`backward_up`, F(i) is the time
    from the nearest source to i instead."""
    ns = ptr.shape[0] - 1
    for i in range(ns):
        vis[i] = 0
    n_eval = 0
    i = 0
    while i < ns:
        x = sel[i]
        acc = b[x]
        mz = np.inf
        for e in range(ptr[i], ptr[i + 1]):
            u = head[e]
            fu = f[u]
            if fu < mz:
                mz = fu
            c = fu + wu[e]
            if c < acc:
                acc = c
        f[i] = acc
        vis[i] = 1
        n_eval += 1
        if mz > bound and not mark[x]:
            i += size[i]
        else:
            i += 1
    return n_eval


@njit(cache=True, nogil=True, boundscheck=False)
def dist_batches(up_ptr, up, w_climb, rank_pos, ptr, head, w_sweep, size, src_rank, bound, target_pos, lab, mn,
                 stamp, vis, b, mark, bid0, out):
    """Dense times between LANES sources at a time and some target positions of a space.

    The sources need not be in the space: each source's upward search runs on the whole
    topology (its elimination-tree ancestors, scalar, ``w_climb`` per arc), and the labels of the
    ancestors that are in the space (``rank_pos`` >= 0) seed the downward sweep (``w_sweep`` in
    sweep order). A shortest up-down path to a target climbs to a common ancestor and descends
    through the target's ancestors only, which the space holds. With ``w_climb`` = up and
    ``w_sweep`` = down weights, out[s, z] = time from source s to target z; with down and up
    weights, the time from target z to source s (the reversed graph). Times above ``bound`` are
    inf (a computed time <= ``bound`` is exact: pruning only drops contributions above it).
    ``out`` float64 (n_sources, n_targets); ``b`` float64[n] inf and ``mark`` bool[n] False
    (restored); bids ``bid0 .. bid0 + ceil(n_sources / LANES) - 1`` are used."""
    n_src = src_rank.shape[0]
    n_t = target_pos.shape[0]
    nodes = np.empty(64, np.int64)
    bid = bid0
    for b0 in range(0, n_src, LANES):
        nl = min(LANES, n_src - b0)
        for k in range(nl):
            cnt = 0
            x = src_rank[b0 + k]
            b[x] = 0.0
            nodes, cnt = _climb(x, up_ptr, up, mark, nodes, cnt)
            # a node's upper neighbours are its ancestors: the path in ascending rank is an order
            for q in range(cnt):
                x = nodes[q]
                d = b[x]
                if d <= bound:
                    for e in range(up_ptr[x], up_ptr[x + 1]):
                        c = d + w_climb[e]
                        if c < b[up[e]]:
                            b[up[e]] = c
            for q in range(cnt):
                x = nodes[q]
                p = rank_pos[x]
                if p >= 0:
                    if stamp[p] != bid:
                        stamp[p] = bid
                        for j in range(LANES):
                            lab[p, j] = np.inf
                    lab[p, k] = b[x]
                b[x] = np.inf
                mark[x] = False
        downward(ptr, head, w_sweep, size, bound, lab, mn, stamp, vis, bid)
        for z in range(n_t):
            p = target_pos[z]
            if vis[p] == bid:
                for k in range(nl):
                    v = lab[p, k]
                    out[b0 + k, z] = v if v <= bound else np.inf
            else:
                for k in range(nl):
                    out[b0 + k, z] = np.inf
        bid += 1
