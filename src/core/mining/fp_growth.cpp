#include "core/mining/fp_growth.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "core/common/error.hpp"

namespace personalize::mining {

namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
// Recursion depth = itemset length. An itemset this long means 2^1000
// frequent subsets, so real data never gets here; the limit only keeps a
// pathological input from overflowing the stack.
constexpr std::size_t kMaxDepth = 1000;

const char *const kTreeWhat = "association_rules: FP-tree";

struct Node {
    std::uint32_t item;    // local item id (kNone for the root)
    std::uint32_t parent;  // node index; the root is node 0
    std::uint32_t count;
    std::uint32_t next;    // next node of the same item, 0 ends the chain
};

struct Tree {
    explicit Tree(MemoryBudget &budget)
        : nodes(budget, kTreeWhat), head(budget, kTreeWhat), support(budget, kTreeWhat), global(budget, kTreeWhat) {}
    ChargedVector<Node> nodes;
    ChargedVector<std::uint32_t> head;     // per local item: first node of its chain (0: none)
    ChargedVector<std::uint32_t> support;  // per local item: count in this tree
    ChargedVector<std::uint32_t> global;   // per local item: global id
    std::size_t items() const { return head.size(); }
};

// Paths to build a tree from: local item ids ascending (most frequent first).
struct Paths {
    explicit Paths(MemoryBudget &budget)
        : items(budget, kTreeWhat), ends(budget, kTreeWhat), weights(budget, kTreeWhat) {}
    ChargedVector<std::uint32_t> items;
    ChargedVector<std::uint64_t> ends;
    ChargedVector<std::uint32_t> weights;
};

// Builds `tree` (its per-item arrays already sized) from paths sorted into
// lexicographic order: then every path shares with the tree exactly its
// common prefix with the previous path, and insertion needs no child lookup.
// weights == nullptr means weight 1 for every path.
void build_tree(const MiningContext &ctx, Tree &tree, const std::uint32_t *items, const std::uint64_t *ends,
                std::size_t n, const std::uint32_t *weights) {
    if (n > kNone) throw Error(ErrorCode::ProgramLimit, "association_rules: too many transactions for the FP-tree");
    auto begin_of = [&](std::size_t p) { return p == 0 ? std::uint64_t{0} : ends[p - 1]; };

    ChargedVector<std::uint32_t> order(ctx.budget, kTreeWhat);
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        ctx.interrupt.poll();
        return std::lexicographical_compare(items + begin_of(a), items + ends[a], items + begin_of(b), items + ends[b]);
    });

    tree.nodes.push_back({kNone, 0, 0, 0});
    std::vector<std::uint32_t> stack;  // nodes of the previous path, by depth
    const std::uint32_t *prev = nullptr;
    std::size_t prev_len = 0;
    for (const std::uint32_t p : order) {
        ctx.interrupt.poll();
        const std::uint32_t *path = items + begin_of(p);
        const std::size_t len = ends[p] - begin_of(p);
        const std::uint32_t w = weights ? weights[p] : 1;
        std::size_t lcp = 0;
        while (lcp < len && lcp < prev_len && path[lcp] == prev[lcp]) ++lcp;
        for (std::size_t d = 0; d < lcp; ++d) tree.nodes[stack[d]].count += w;
        std::uint32_t parent = lcp == 0 ? 0 : stack[lcp - 1];
        stack.resize(len);
        for (std::size_t d = lcp; d < len; ++d) {
            if (tree.nodes.size() >= kNone)
                throw Error(ErrorCode::ProgramLimit, "association_rules: the FP-tree has too many nodes");
            const auto id = static_cast<std::uint32_t>(tree.nodes.size());
            const std::uint32_t item = path[d];
            tree.nodes.push_back({item, parent, w, tree.head[item]});
            tree.head[item] = id;
            stack[d] = id;
            parent = id;
        }
        for (std::size_t d = 0; d < len; ++d) tree.support[path[d]] += w;
        prev = path;
        prev_len = len;
    }
}

class Miner {
public:
    Miner(const MiningContext &ctx, ItemsetStore &store) : ctx_(ctx), store_(store) {}

    // Itemsets extending suffix_ by the items of `tree` (a conditional tree
    // of suffix_); `outside` = items of suffix_ that cannot be antecedents.
    void mine(const Tree &tree, std::size_t outside) {
        const std::size_t len = suffix_.size() + 1;  // length of suffix_ + one item of this tree
        if (len > kMaxDepth)
            throw Error(ErrorCode::ProgramLimit, "association_rules: frequent itemsets longer than 1000 items",
                        {}, "Lower \"max_len\" or raise \"min_support\".");
        Scratch scratch(ctx_.budget, tree.items());
        for (std::size_t i = tree.items(); i-- > 0;) {
            ctx_.interrupt.poll();
            if (tree.support[i] == 0) continue;
            const std::uint32_t g = tree.global[i];
            const bool out = ctx_.antecedent_filter && !ctx_.can_be_antecedent(g);
            suffix_.push_back(g);
            if (len >= 2) {
                ++ctx_.stats.frequent_itemsets;
                store_sorted(suffix_.data(), len, tree.support[i]);
            }
            if (len < static_cast<std::size_t>(ctx_.max_len) && tree.head[i] != 0)
                extend(tree, static_cast<std::uint32_t>(i), outside + (out ? 1 : 0), scratch);
            suffix_.pop_back();
        }
    }

private:
    struct Scratch {
        Scratch(MemoryBudget &budget, std::size_t m)
            : cond(budget, kTreeWhat),
              remap(budget, kTreeWhat),
              touched(budget, kTreeWhat),
              selected(budget, kTreeWhat) {
            cond.assign(m, 0);
            remap.assign(m, kNone);
        }
        ChargedVector<std::uint32_t> cond;      // conditional count per local item
        ChargedVector<std::uint32_t> remap;     // local item -> id in the conditional tree
        ChargedVector<std::uint32_t> touched;   // items with cond > 0
        ChargedVector<std::uint32_t> selected;  // frequent, allowed items of the conditional base
    };

    void store_sorted(const std::uint32_t *items, std::size_t k, std::uint32_t count) {
        buffer_.assign(items, items + k);
        std::sort(buffer_.begin(), buffer_.end());
        store_.add(buffer_.data(), k, count);
    }

    // suffix_ (ending with item i of `tree`) is frequent; finds its frequent
    // extensions from i's conditional pattern base.
    void extend(const Tree &tree, std::uint32_t i, std::size_t outside, Scratch &s) {
        const Node *nodes = tree.nodes.data();
        for (std::uint32_t n = tree.head[i]; n != 0; n = nodes[n].next) {
            ctx_.interrupt.poll();
            const std::uint32_t w = nodes[n].count;
            for (std::uint32_t p = nodes[n].parent; p != 0; p = nodes[p].parent) {
                const std::uint32_t item = nodes[p].item;
                if (s.cond[item] == 0) s.touched.push_back(item);
                s.cond[item] += w;
            }
        }
        // With one item already unable to be an antecedent, every further
        // item must be able to (it would otherwise be a second consequent).
        const bool need_antecedent = ctx_.antecedent_filter && outside >= 1;
        s.selected.clear();
        for (const std::uint32_t j : s.touched)
            if (s.cond[j] >= ctx_.min_count && (!need_antecedent || ctx_.can_be_antecedent(tree.global[j])))
                s.selected.push_back(j);

        const std::size_t len = suffix_.size() + 1;  // length of the extensions
        if (!s.selected.empty()) {
            if (len == static_cast<std::size_t>(ctx_.max_len)) {
                // The longest itemsets: their counts are the conditional
                // counts; no tree needed. Kept only if they can yield a rule
                // (no rule has them as antecedent).
                for (const std::uint32_t j : s.selected) {
                    ctx_.interrupt.poll();
                    ++ctx_.stats.frequent_itemsets;
                    suffix_.push_back(tree.global[j]);
                    if (ctx_.can_yield_rule(suffix_.data(), len)) store_sorted(suffix_.data(), len, s.cond[j]);
                    suffix_.pop_back();
                }
            } else {
                conditional_tree(tree, i, outside, s);
            }
        }
        for (const std::uint32_t j : s.touched) {
            s.cond[j] = 0;
            s.remap[j] = kNone;
        }
        s.touched.clear();
    }

    void conditional_tree(const Tree &tree, std::uint32_t i, std::size_t outside, Scratch &s) {
        // Conditional ids by descending conditional count (ties: tree order).
        std::sort(s.selected.begin(), s.selected.end(), [&](std::uint32_t a, std::uint32_t b) {
            return s.cond[a] != s.cond[b] ? s.cond[a] > s.cond[b] : a < b;
        });
        const std::size_t m = s.selected.size();
        Tree cond(ctx_.budget);
        cond.head.assign(m, 0);
        cond.support.assign(m, 0);
        cond.global.resize(m);
        for (std::size_t r = 0; r < m; ++r) {
            s.remap[s.selected[r]] = static_cast<std::uint32_t>(r);
            cond.global[r] = tree.global[s.selected[r]];
        }
        {
            Paths paths(ctx_.budget);
            const Node *nodes = tree.nodes.data();
            for (std::uint32_t n = tree.head[i]; n != 0; n = nodes[n].next) {
                ctx_.interrupt.poll();
                const std::size_t start = paths.items.size();
                for (std::uint32_t p = nodes[n].parent; p != 0; p = nodes[p].parent) {
                    const std::uint32_t r = s.remap[nodes[p].item];
                    if (r != kNone) paths.items.push_back(r);
                }
                if (paths.items.size() == start) continue;
                std::sort(paths.items.begin() + static_cast<std::ptrdiff_t>(start), paths.items.end());
                paths.ends.push_back(paths.items.size());
                paths.weights.push_back(nodes[n].count);
            }
            build_tree(ctx_, cond, paths.items.data(), paths.ends.data(), paths.ends.size(), paths.weights.data());
        }
        mine(cond, outside);
    }

    const MiningContext &ctx_;
    ItemsetStore &store_;
    std::vector<std::uint32_t> suffix_;  // global ids, in the order they were added
    std::vector<std::uint32_t> buffer_;
};

}  // namespace

void fp_growth(const MiningContext &ctx, Transactions &transactions, ItemsetStore &store) {
    if (ctx.ranked == 0 || transactions.size() == 0) return;
    Tree tree(ctx.budget);
    tree.head.assign(ctx.ranked, 0);
    tree.support.assign(ctx.ranked, 0);
    tree.global.resize(ctx.ranked);
    for (std::size_t r = 0; r < ctx.ranked; ++r) tree.global[r] = ctx.rank_to_global[r];
    build_tree(ctx, tree, transactions.items.data(), transactions.ends.data(), transactions.size(), nullptr);
    transactions.items.free();
    transactions.ends.free();
    Miner(ctx, store).mine(tree, 0);
}

}  // namespace personalize::mining
