#include "core/suggest/suggestions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/common/error.hpp"

namespace personalize::suggest {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kCategoryChunk = 64;  // categories fetched at a time

std::string id_text(std::int64_t id) { return std::to_string(id); }

}  // namespace

void validate(const Options &options, const char *function) {
    const std::string f = function;
    if (options.n < 1) throw_invalid(f + ": \"n\" must be at least 1");
    if (options.category_cap < 0) throw_invalid(f + ": \"category_cap\" must be at least 1", "Use NULL for no cap.");
    if (!(options.half_life >= 0.0) || std::isinf(options.half_life))
        throw_invalid(f + ": \"half_life\" must be a positive interval", "Use NULL for no decay.");
    if (options.min_history < 0) throw_invalid(f + ": \"min_history\" must not be negative");
}

// ---------------------------------------------------------------------------
// Model

Model::Model(MemoryBudget &budget, const char *function)
    : budget_(budget),
      function_(function),
      items_label_(function_ + ": items"),
      similarities_label_(function_ + ": similarities"),
      popular_label_(function_ + ": popular items"),
      ids_(budget, items_label_.c_str()),
      index_(budget, items_label_.c_str()),
      own_(budget, items_label_.c_str()),
      category_(budget, items_label_.c_str()),
      category_known_(budget, items_label_.c_str()),
      rebuyable_(budget, items_label_.c_str()),
      edges_(budget, similarities_label_.c_str()),
      offsets_(budget, similarities_label_.c_str()),
      neighbours_(budget, similarities_label_.c_str()),
      no_popular_(budget, popular_label_.c_str()) {}

std::uint32_t Model::intern(std::int64_t item) {
    const auto found = index_.map().find(item);
    if (found != index_.map().end()) return found->second;
    if (ids_.size() >= kNone - 1) throw Error(ErrorCode::ProgramLimit, function_ + ": more than 4294967293 items");
    const auto index = static_cast<std::uint32_t>(ids_.size());
    index_[item] = index;
    ids_.push_back(item);
    own_.push_back(kNaN);
    category_.push_back(kNone);
    category_known_.push_back(0);
    rebuyable_.push_back(0);
    return index;
}

std::uint32_t Model::find(std::int64_t item) const {
    const auto found = index_.map().find(item);
    return found == index_.map().end() ? kNone : found->second;
}

void Model::add_similarity(std::int64_t item, std::int64_t neighbour, double score) {
    if (!std::isfinite(score))
        throw_invalid(function_ + ": \"similarities\" holds a score that is not a finite number (item " + id_text(item) +
                      ", neighbour " + id_text(neighbour) + ")");
    const std::uint32_t i = intern(item);
    if (item == neighbour) {
        if (!(own_[i] >= score)) own_[i] = score;  // NaN (none yet) or smaller
        return;
    }
    const std::uint32_t j = intern(neighbour);
    edges_.push_back({i, j, score});
}

void Model::set_category(std::uint32_t index, std::uint32_t category) {
    category_[index] = category;
    category_known_[index] = 1;
}

std::uint32_t Model::category_index(std::string_view name) {
    const auto found = categories_.find(std::string(name));
    if (found != categories_.end()) return found->second;
    const auto index = static_cast<std::uint32_t>(categories_.size());
    categories_.emplace(std::string(name), index);
    return index;
}

std::uint32_t Model::segment_index(std::string_view name) {
    const auto found = segments_.find(std::string(name));
    if (found != segments_.end()) return found->second;
    const auto index = static_cast<std::uint32_t>(segments_.size());
    segments_.emplace(std::string(name), index);
    return index;
}

std::uint32_t Model::find_segment(std::string_view name) const {
    const auto found = segments_.find(std::string(name));
    return found == segments_.end() ? kNone : found->second;
}

void Model::add_popular(std::uint32_t segment, std::int64_t item, double score) {
    if (!std::isfinite(score))
        throw_invalid(function_ + ": \"popular\" holds a score that is not a finite number (item " + id_text(item) + ")");
    const std::size_t slot = segment == kNone ? 0 : static_cast<std::size_t>(segment) + 1;
    while (popular_input_.size() <= slot) popular_input_.emplace_back(budget_, popular_label_.c_str());
    popular_input_[slot].push_back({intern(item), score});
}

void Model::finish(const Interrupt &interrupt) {
    // Neighbour lists: by item, then neighbour; a repeated pair keeps its largest score.
    std::sort(edges_.begin(), edges_.end(), [&](const Edge &a, const Edge &b) {
        interrupt.poll();
        if (a.item != b.item) return a.item < b.item;
        if (a.neighbour != b.neighbour) return a.neighbour < b.neighbour;
        return a.score > b.score;
    });
    const std::size_t items = ids_.size();
    offsets_.assign(items + 1, 0);
    neighbours_.clear();
    neighbours_.reserve(edges_.size());
    for (std::size_t e = 0; e < edges_.size(); ++e) {
        interrupt.poll();
        const Edge &edge = edges_[e];
        if (e > 0 && edges_[e - 1].item == edge.item && edges_[e - 1].neighbour == edge.neighbour) continue;
        neighbours_.push_back({edge.neighbour, edge.score});
        ++offsets_[edge.item + 1];
    }
    for (std::size_t i = 0; i < items; ++i) offsets_[i + 1] += offsets_[i];
    edges_.free();

    // Popular items: best first (ties: smaller id), each item once.
    popular_.clear();
    for (ChargedVector<Popular> &input : popular_input_) {
        std::sort(input.begin(), input.end(), [&](const Popular &a, const Popular &b) {
            interrupt.poll();
            if (a.score != b.score) return a.score > b.score;
            return ids_[a.item] < ids_[b.item];
        });
        popular_.emplace_back(budget_, popular_label_.c_str());
        ChargedVector<std::uint32_t> &list = popular_.back();
        list.reserve(input.size());
        std::vector<bool> seen;
        for (const Popular &p : input) {
            if (p.item >= seen.size()) seen.resize(p.item + 1, false);
            if (seen[p.item]) continue;
            seen[p.item] = true;
            list.push_back(p.item);
        }
        input.free();
    }
    popular_input_.clear();
}

const Model::Neighbour *Model::neighbours_begin(std::uint32_t index) const {
    if (static_cast<std::size_t>(index) + 1 >= offsets_.size()) return nullptr;
    return neighbours_.data() + offsets_[index];
}

const Model::Neighbour *Model::neighbours_end(std::uint32_t index) const {
    if (static_cast<std::size_t>(index) + 1 >= offsets_.size()) return nullptr;
    return neighbours_.data() + offsets_[index + 1];
}

const ChargedVector<std::uint32_t> &Model::popular(std::uint32_t segment) const {
    const std::size_t slot = segment == kNone ? 0 : static_cast<std::size_t>(segment) + 1;
    return slot < popular_.size() ? popular_[slot] : no_popular_;
}

// ---------------------------------------------------------------------------
// Scorer

Scorer::Scorer(Model &model, const Options &options, MemoryBudget &budget, CategoryFetch fetch)
    : model_(model),
      options_(options),
      fetch_(std::move(fetch)),
      label_(model.function() + ": scores"),
      score_(budget, label_.c_str()),
      touched_stamp_(budget, label_.c_str()),
      bought_(budget, label_.c_str()),
      chosen_slot_stamp_(budget, label_.c_str()),
      chosen_slot_(budget, label_.c_str()) {
    validate(options, model.function().c_str());
}

void Scorer::grow() {
    const std::size_t n = model_.size();
    if (score_.size() >= n) return;
    score_.resize(n);
    touched_stamp_.resize(n);
    bought_.resize(n);
    chosen_slot_stamp_.resize(n);
    chosen_slot_.resize(n);
}

void Scorer::ensure_categories(const std::uint32_t *items, std::size_t count) {
    missing_.clear();
    for (std::size_t k = 0; k < count; ++k)
        if (!model_.category_known(items[k])) missing_.push_back(items[k]);
    if (missing_.empty()) return;
    if (fetch_) fetch_(missing_);
    for (const std::uint32_t item : missing_)
        if (!model_.category_known(item)) model_.set_category(item, kNone);
}

bool Scorer::fits_cap(std::uint32_t item, std::vector<std::int64_t> &per_category) {
    if (options_.category_cap == 0) return true;
    const std::uint32_t category = model_.category(item);
    if (category == kNone) return true;
    if (per_category.size() <= category) per_category.resize(static_cast<std::size_t>(category) + 1, 0);
    if (per_category[category] >= options_.category_cap) return false;
    ++per_category[category];
    return true;
}

void Scorer::add_because(std::vector<Suggestion> &out, const std::vector<std::uint32_t> &distinct,
                         const std::vector<double> &weight, const Interrupt &interrupt) {
    because_.assign(out.size(), {});
    std::vector<int> used(out.size(), 0);
    auto offer = [&](std::uint32_t candidate, double value, std::int64_t bought) {
        if (chosen_slot_stamp_[candidate] != stamp_ || !(value > 0.0)) return;
        const std::uint32_t slot = chosen_slot_[candidate];
        if (out[slot].source != Source::ItemItem) return;
        auto &best = because_[slot];
        int &n = used[slot];
        // Insertion into a list of at most kMaxBecause, by value desc then id asc.
        int at = n;
        while (at > 0 && (best[at - 1].value < value || (best[at - 1].value == value && best[at - 1].item > bought))) --at;
        if (at >= kMaxBecause) return;
        for (int k = std::min(n, kMaxBecause - 1); k > at; --k) best[k] = best[k - 1];
        best[at] = {value, bought};
        if (n < kMaxBecause) ++n;
    };
    for (std::size_t k = 0; k < distinct.size(); ++k) {
        interrupt.poll(64);
        const std::uint32_t i = distinct[k];
        const std::int64_t id = model_.item(i);
        const Model::Neighbour *end = model_.neighbours_end(i);
        for (const Model::Neighbour *nb = model_.neighbours_begin(i); nb != end; ++nb)
            offer(nb->item, weight[k] * nb->score, id);
        if (model_.rebuyable(i) && model_.has_own_score(i)) offer(i, weight[k] * model_.own_score(i), id);
    }
    for (std::size_t slot = 0; slot < out.size(); ++slot) {
        out[slot].because_count = used[slot];
        for (int k = 0; k < used[slot]; ++k) out[slot].because[k] = because_[slot][k].item;
    }
}

void Scorer::suggest(const Purchase *history, std::size_t count, std::uint32_t segment, std::vector<Suggestion> &out,
                     const Interrupt &interrupt) {
    out.clear();
    grow();
    if (++stamp_ == 0) {  // wrapped: forget every mark
        std::fill(touched_stamp_.begin(), touched_stamp_.end(), 0u);
        std::fill(bought_.begin(), bought_.end(), 0u);
        std::fill(chosen_slot_stamp_.begin(), chosen_slot_stamp_.end(), 0u);
        stamp_ = 1;
    }
    const auto n = static_cast<std::uint64_t>(options_.n);
    std::vector<std::int64_t> per_category;

    // The distinct items bought, each with its latest purchase time.
    sorted_.assign(history, history + count);
    // By item id, not index: each score is then summed in the same order
    // whatever the model's numbering (the batch and one-customer forms agree).
    std::sort(sorted_.begin(), sorted_.end(), [&](const Purchase &a, const Purchase &b) {
        return model_.item(a.item) < model_.item(b.item);
    });
    distinct_.clear();
    last_time_.clear();
    double newest = -std::numeric_limits<double>::infinity(), oldest = std::numeric_limits<double>::infinity();
    for (const Purchase &p : sorted_) {
        interrupt.poll();
        if (distinct_.empty() || distinct_.back() != p.item) {
            distinct_.push_back(p.item);
            last_time_.push_back(kNaN);
            bought_[p.item] = stamp_;
        }
        if (p.time == p.time) {
            double &last = last_time_.back();
            if (!(last >= p.time)) last = p.time;
            newest = std::max(newest, p.time);
            oldest = std::min(oldest, p.time);
        }
    }
    weight_.assign(distinct_.size(), 1.0);
    if (options_.half_life > 0.0 && std::isfinite(newest)) {
        for (std::size_t k = 0; k < distinct_.size(); ++k) {
            const double t = last_time_[k] == last_time_[k] ? last_time_[k] : oldest;
            weight_[k] = std::exp2(-(newest - t) / options_.half_life);
        }
    }

    // Item-item scores.
    candidates_.clear();
    if (!distinct_.empty() && distinct_.size() >= static_cast<std::uint64_t>(options_.min_history)) {
        touched_.clear();
        auto add = [&](std::uint32_t c, double value) {
            if (touched_stamp_[c] != stamp_) {
                touched_stamp_[c] = stamp_;
                score_[c] = 0.0;
                touched_.push_back(c);
            }
            score_[c] += value;
        };
        for (std::size_t k = 0; k < distinct_.size(); ++k) {
            interrupt.poll(64);
            const std::uint32_t i = distinct_[k];
            const double w = weight_[k];
            const Model::Neighbour *end = model_.neighbours_end(i);
            for (const Model::Neighbour *nb = model_.neighbours_begin(i); nb != end; ++nb) add(nb->item, w * nb->score);
            if (model_.rebuyable(i) && model_.has_own_score(i)) add(i, w * model_.own_score(i));
        }
        for (const std::uint32_t c : touched_)
            if (!excluded(c) && score_[c] > 0.0) candidates_.push_back({score_[c], c});
    }

    // The best candidates, a chunk at a time (more when a cap may skip some).
    const auto better = [&](const Candidate &a, const Candidate &b) {
        if (a.score != b.score) return a.score > b.score;
        return model_.item(a.item) < model_.item(b.item);
    };
    std::size_t pos = 0;
    while (out.size() < n && pos < candidates_.size()) {
        interrupt.check();
        const std::uint64_t remaining = n - out.size();
        const std::uint64_t left = candidates_.size() - pos;
        std::uint64_t chunk = options_.category_cap > 0 ? std::max<std::uint64_t>(4 * std::min(remaining, left), 32)
                                                        : remaining;
        chunk = std::min(chunk, left);
        const auto first = candidates_.begin() + static_cast<std::ptrdiff_t>(pos);
        const auto middle = first + static_cast<std::ptrdiff_t>(chunk);
        std::partial_sort(first, middle, candidates_.end(), better);
        if (options_.category_cap > 0) {
            std::vector<std::uint32_t> items;
            for (auto it = first; it != middle; ++it) items.push_back(it->item);
            ensure_categories(items.data(), items.size());
        }
        for (auto it = first; it != middle && out.size() < n; ++it) {
            if (!fits_cap(it->item, per_category)) continue;
            chosen_slot_stamp_[it->item] = stamp_;
            chosen_slot_[it->item] = static_cast<std::uint32_t>(out.size());
            out.push_back({model_.item(it->item), it->score, Source::ItemItem, 0, {}});
        }
        pos += static_cast<std::size_t>(chunk);
    }
    if (!out.empty()) add_because(out, distinct_, weight_, interrupt);

    // Popular items of the segment, then overall, fill what is left.
    if (segment != kNone) fill_popular(model_.popular(segment), n, per_category, out, interrupt);
    fill_popular(model_.popular(kNone), n, per_category, out, interrupt);
}

void Scorer::fill_popular(const ChargedVector<std::uint32_t> &list, std::uint64_t n,
                          std::vector<std::int64_t> &per_category, std::vector<Suggestion> &out,
                          const Interrupt &interrupt) {
    std::size_t checked = 0;
    for (std::size_t p = 0; p < list.size() && out.size() < n; ++p) {
        interrupt.poll(64);
        const std::uint32_t item = list[p];
        if (excluded(item) || chosen_slot_stamp_[item] == stamp_) continue;
        if (options_.category_cap > 0 && p >= checked) {
            const std::size_t upto = std::min(list.size(), p + kCategoryChunk);
            ensure_categories(list.data() + p, upto - p);
            checked = upto;
        }
        if (!fits_cap(item, per_category)) continue;
        chosen_slot_stamp_[item] = stamp_;
        chosen_slot_[item] = static_cast<std::uint32_t>(out.size());
        out.push_back({model_.item(item), 0.0, Source::Popular, 0, {}});
    }
}

// ---------------------------------------------------------------------------
// Batch

void suggest_all(Scorer &scorer, ChargedVector<HistoryLine> &lines, ChargedVector<Target> *targets,
                 const Interrupt &interrupt,
                 const std::function<void(std::int64_t customer, const std::vector<Suggestion> &)> &emit) {
    std::sort(lines.begin(), lines.end(), [&](const HistoryLine &a, const HistoryLine &b) {
        interrupt.poll();
        return a.customer < b.customer;
    });
    std::vector<Purchase> group;
    std::vector<Suggestion> out;
    std::size_t at = 0;
    // The lines of `customer`, from `at` on (lines before it are skipped).
    auto take = [&](std::int64_t customer) {
        group.clear();
        while (at < lines.size() && lines[at].customer < customer) ++at;
        while (at < lines.size() && lines[at].customer == customer) {
            group.push_back({lines[at].item, lines[at].time});
            ++at;
        }
    };
    if (targets == nullptr) {
        while (at < lines.size()) {
            const std::int64_t customer = lines[at].customer;
            take(customer);
            scorer.suggest(group.data(), group.size(), kNone, out, interrupt);
            emit(customer, out);
        }
        return;
    }
    std::sort(targets->begin(), targets->end(), [&](const Target &a, const Target &b) {
        interrupt.poll();
        return a.customer < b.customer;
    });
    for (std::size_t t = 0; t < targets->size(); ++t) {
        const Target &target = (*targets)[t];
        if (t > 0 && (*targets)[t - 1].customer == target.customer) continue;  // listed twice: once
        take(target.customer);
        scorer.suggest(group.data(), group.size(), target.segment, out, interrupt);
        emit(target.customer, out);
    }
}

}  // namespace personalize::suggest
