// Personal suggestions from a customer's order history and item-to-item
// similarities (core/suggest/item_similarity):
//
//   score(c) = sum over the distinct items i the customer bought of
//              w(i) * sim(i, c),   w(i) = 2^(-(t_last - t_i) / half_life)
//
// t_i is the customer's latest purchase of i, t_last the customer's latest
// purchase of anything (so the newest item weighs 1 and the weights do not
// depend on when the list is computed). Items the customer bought are never
// suggested unless they are re-buyable; a re-buyable item also counts as its
// own neighbour (its own row in the similarities). At most `category_cap`
// suggestions share a category. When the customer has fewer than
// `min_history` distinct items, or fewer than n candidates score > 0, the
// list is filled with the items most popular in the customer's segment, then
// overall (score 0, source Popular), under the same exclusions and cap.
// Each item-item suggestion names up to kMaxBecause bought items that
// contributed most to its score ("because you bought ...").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/charged_hash_map.hpp"
#include "core/common/charged_vector.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::suggest {

constexpr std::uint32_t kNone = 0xFFFFFFFFu;
constexpr int kMaxBecause = 3;

struct Options {
    std::int64_t n = 10;               // >= 1: suggestions per customer
    std::int64_t category_cap = 0;     // >= 0: most suggestions of one category (0: no cap)
    double half_life = 0;              // > 0: recency half-life in the unit of Purchase::time; 0: no decay
    std::int64_t min_history = 1;      // >= 0: fewer distinct items bought: popular items only
};

// InvalidParameter naming the option ("n", "category_cap", "half_life",
// "min_history"); `function` prefixes the message.
void validate(const Options &options, const char *function);

// Items, their similarities, attributes and popularity, under dense indexes.
class Model {
public:
    // `function` prefixes error messages ("suggestions", "batch_suggestions").
    explicit Model(MemoryBudget &budget, const char *function = "suggestions");
    Model(const Model &) = delete;  // its vectors point at its own labels
    Model &operator=(const Model &) = delete;

    // The dense index of an item id, made when new / kNone when unseen.
    std::uint32_t intern(std::int64_t item);
    std::uint32_t find(std::int64_t item) const;
    std::int64_t item(std::uint32_t index) const { return ids_[index]; }
    std::size_t size() const { return ids_.size(); }

    const std::string &function() const { return function_; }

    // One row of the similarities (item == neighbour: the item's own row).
    // Scores must be finite (InvalidParameter naming "similarities"); a
    // repeated pair keeps its largest score. Before finish().
    void add_similarity(std::int64_t item, std::int64_t neighbour, double score);
    // Item attributes; category kNone: none.
    void set_category(std::uint32_t index, std::uint32_t category);
    void set_rebuyable(std::uint32_t index, bool rebuyable) { rebuyable_[index] = rebuyable ? 1 : 0; }
    std::uint32_t category_index(std::string_view name);
    // Segment names; find_segment gives kNone for a segment never added.
    std::uint32_t segment_index(std::string_view name);
    std::uint32_t find_segment(std::string_view name) const;
    // A popular item of a segment (kNone: overall), higher score first.
    // Non-finite scores: InvalidParameter naming "popular".
    void add_popular(std::uint32_t segment, std::int64_t item, double score);
    // Builds the neighbour lists and sorts the popular items. Items interned
    // later have no neighbours.
    void finish(const Interrupt &interrupt);

    struct Neighbour {
        std::uint32_t item;
        double score;
    };
    const Neighbour *neighbours_begin(std::uint32_t index) const;
    const Neighbour *neighbours_end(std::uint32_t index) const;
    double own_score(std::uint32_t index) const { return own_[index]; }  // NaN: no own row
    bool has_own_score(std::uint32_t index) const { return own_[index] == own_[index]; }
    bool rebuyable(std::uint32_t index) const { return rebuyable_[index] != 0; }
    std::uint32_t category(std::uint32_t index) const { return category_[index]; }
    bool category_known(std::uint32_t index) const { return category_known_[index] != 0; }
    const ChargedVector<std::uint32_t> &popular(std::uint32_t segment) const;

private:
    struct Edge {
        std::uint32_t item, neighbour;
        double score;
    };
    MemoryBudget &budget_;
    std::string function_, items_label_, similarities_label_, popular_label_;  // before the vectors using them
    ChargedVector<std::int64_t> ids_;
    ChargedHashMap<std::int64_t, std::uint32_t> index_;
    ChargedVector<double> own_;
    ChargedVector<std::uint32_t> category_;
    ChargedVector<std::uint8_t> category_known_;
    ChargedVector<std::uint8_t> rebuyable_;
    ChargedVector<Edge> edges_;             // until finish()
    ChargedVector<std::uint64_t> offsets_;  // CSR over the items known at finish()
    ChargedVector<Neighbour> neighbours_;   // per item ascending by neighbour index
    std::unordered_map<std::string, std::uint32_t> categories_, segments_;
    struct Popular {
        std::uint32_t item;
        double score;
    };
    std::vector<ChargedVector<Popular>> popular_input_;  // [segment + 1], until finish()
    std::vector<ChargedVector<std::uint32_t>> popular_;  // [segment + 1], best first
    ChargedVector<std::uint32_t> no_popular_;
};

enum class Source { ItemItem, Popular };

struct Suggestion {
    std::int64_t item;
    double score;       // 0 for popular items
    Source source;
    int because_count;  // 0..kMaxBecause
    std::array<std::int64_t, kMaxBecause> because;  // strongest first
};

struct Purchase {
    std::uint32_t item;  // model index (intern it)
    double time;         // any unit (the glue: microseconds); NaN: unknown (taken as the earliest purchase)
};

// Asked for the categories of items whose category is not known yet (the
// single-customer form fetches them lazily); it must set them on the model.
using CategoryFetch = std::function<void(const std::vector<std::uint32_t> &items)>;

class Scorer {
public:
    Scorer(Model &model, const Options &options, MemoryBudget &budget, CategoryFetch fetch = {});
    Scorer(const Scorer &) = delete;  // its vectors point at its own label
    Scorer &operator=(const Scorer &) = delete;

    // One customer's suggestions (at most n, best first) into `out`.
    // `segment`: the customer's segment index, kNone for none.
    void suggest(const Purchase *history, std::size_t count, std::uint32_t segment, std::vector<Suggestion> &out,
                 const Interrupt &interrupt);

private:
    struct Candidate {
        double score;
        std::uint32_t item;
    };
    struct Contribution {
        double value;
        std::int64_t item;
    };
    void grow();
    bool excluded(std::uint32_t item) const {
        return bought_[item] == stamp_ && !model_.rebuyable(item);
    }
    bool fits_cap(std::uint32_t item, std::vector<std::int64_t> &per_category);
    void ensure_categories(const std::uint32_t *items, std::size_t count);
    void fill_popular(const ChargedVector<std::uint32_t> &list, std::uint64_t n, std::vector<std::int64_t> &per_category,
                      std::vector<Suggestion> &out, const Interrupt &interrupt);
    void add_because(std::vector<Suggestion> &out, const std::vector<std::uint32_t> &distinct,
                     const std::vector<double> &weight, const Interrupt &interrupt);

    Model &model_;
    Options options_;
    CategoryFetch fetch_;
    std::string label_;  // before the vectors using it
    ChargedVector<double> score_;
    ChargedVector<std::uint32_t> touched_stamp_, bought_, chosen_slot_stamp_;
    ChargedVector<std::uint32_t> chosen_slot_;
    std::uint32_t stamp_ = 0;
    std::vector<Purchase> sorted_;
    std::vector<std::uint32_t> touched_, distinct_, missing_;
    std::vector<double> last_time_, weight_;
    std::vector<Candidate> candidates_;
    std::vector<std::array<Contribution, kMaxBecause>> because_;
};

// The batch form: every customer of `lines` (sorted here by customer), or
// every customer of `targets` (any order; customers without history get
// popular items), in ascending customer order: emit(customer, suggestions).
struct HistoryLine {
    std::int64_t customer;
    std::uint32_t item;  // model index
    double time;
};
struct Target {
    std::int64_t customer;
    std::uint32_t segment;  // kNone: none
};
void suggest_all(Scorer &scorer, ChargedVector<HistoryLine> &lines, ChargedVector<Target> *targets,
                 const Interrupt &interrupt,
                 const std::function<void(std::int64_t customer, const std::vector<Suggestion> &)> &emit);

}  // namespace personalize::suggest
