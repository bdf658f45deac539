// libFuzzer target of the byte format (core/common/bytes.hpp): every
// deserialiser of the extension (the aggregate states' deserialfuncs and the
// binary input of the stored types) on arbitrary bytes and on damaged valid
// values.
//
// Input: byte 0 picks the kind of value (byte 0 % kKinds, in the order of
// kKinds below) and the mode (byte 0 / kKinds % 2):
//   mode 0: the rest is the value's bytes, as a deserialfunc or a type's
//           receive function gets them;
//   mode 1: byte 1 is a number of damages (0..7), each 3 bytes (a position
//           in the value, 2 bytes, then a byte to xor there), then one byte
//           to cut the value at (0: keep its length); the rest draws the
//           content of a valid value, which is serialised and damaged so.
//           The ALS model's fingerprint is recomputed after the damage, so
//           the checks behind it are reached.
// Besides the sanitizers, it checks: every exception is a personalize::Error
// with code DataCorrupted or OutOfMemory (a damaged value is corrupted, never
// a bad argument); an accepted value can be used, and its bytes read back
// and serialise the same; a stored baskets value serialises back to exactly
// the bytes read.
//
// With BYTES_FUZZ_WRITE_SEEDS=DIR in the environment the target writes one
// valid value of each kind, in both modes, into DIR and exits: the seed
// corpus of test/fuzz/run.sh, always in the current format.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/als/als.hpp"
#include "core/als/model.hpp"
#include "core/common/bytes.hpp"
#include "core/common/error.hpp"
#include "core/customers/rfm.hpp"
#include "core/customers/summary.hpp"
#include "core/kmeans/state.hpp"
#include "core/lifetime/bgnbd.hpp"
#include "core/lifetime/fit_state.hpp"
#include "core/lifetime/gamma_gamma.hpp"
#include "core/lifetime/pareto_nbd.hpp"
#include "core/mining/baskets.hpp"
#include "core/propensity/auc.hpp"
#include "core/propensity/logistic_regression.hpp"

namespace {

using personalize::ByteReader;
using personalize::Error;
using personalize::ErrorCode;
using personalize::Interrupt;
using personalize::MemoryBudget;
using personalize::read_whole;
using personalize::to_bytes;
using Bytes = std::vector<unsigned char>;

[[noreturn]] void fail(const char *what, const std::string &detail) {
    std::fprintf(stderr, "bytes_fuzz: %s: %s\n", what, detail.c_str());
    std::abort();
}

// A budget that stops a value from taking more than the fuzzer allows.
MemoryBudget budget() { return MemoryBudget(std::size_t{64} << 20, "the fuzz limit"); }

// Draws small numbers from the input (0 once it is used up).
struct Draw {
    const unsigned char *p;
    std::size_t n;
    unsigned byte() { return n == 0 ? 0 : (--n, *p++); }
    int small(int range) { return static_cast<int>(byte() % static_cast<unsigned>(range)); }
    std::size_t count(std::size_t most) { return byte() % (most + 1); }
};

// serialise(read(bytes)) must read back and serialise the same.
template <typename Read>
void expect_canonical(const Bytes &written, Read read) {
    const Bytes again = read(written.data(), written.size());
    if (again != written) fail("canonical form", "a value's bytes do not serialise back the same");
}

// ---- one entry per kind: read (and use) given bytes; make a valid value

Bytes read_baskets(const unsigned char *data, std::size_t size) {
    MemoryBudget b = budget();
    const auto c = personalize::mining::BasketCollection::deserialize(data, size, b);
    c.to_text();
    personalize::mining::BasketCollection::merge(c, c, b, Interrupt());
    const Bytes out = to_bytes(c);
    if (out != Bytes(data, data + size)) fail("baskets", "a stored value does not serialise back to its bytes");
    return out;
}
Bytes make_baskets(Draw &d) {
    personalize::mining::BasketBuilder builder(budget());
    for (std::size_t i = d.count(12); i > 0; --i) builder.add(d.small(6) - 2, d.small(9) - 4);
    return to_bytes(builder.finish(Interrupt()));
}

Bytes read_basket_lines(const unsigned char *data, std::size_t size) {
    auto builder = personalize::mining::BasketBuilder::deserialize(data, size, budget());
    const Bytes out = to_bytes(builder);
    builder.finish(Interrupt());
    return out;
}
Bytes make_basket_lines(Draw &d) {
    personalize::mining::BasketBuilder builder(budget());
    for (std::size_t i = d.count(12); i > 0; --i) builder.add(d.small(6) - 2, d.small(9) - 4);
    return to_bytes(builder);
}

Bytes read_summary(const unsigned char *data, std::size_t size) {
    const auto s = personalize::customers::CustomerSummary::deserialize(data, size);
    s.result();
    return to_bytes(s);
}
Bytes make_summary(Draw &d) {
    personalize::customers::CustomerSummary s;
    const personalize::customers::SummaryParams params{1000, 10, 1.0 + d.small(7)};
    for (std::size_t i = d.count(8); i > 0; --i) {
        const int day = d.small(11);
        s.add(params, day * 100, day, d.small(200) - 50.0);
    }
    return to_bytes(s);
}

Bytes read_rfm(const unsigned char *data, std::size_t size) {
    const auto c = personalize::customers::RfmCollector::deserialize(data, size, budget());
    c.breakpoints();
    return to_bytes(c);
}
Bytes make_rfm(Draw &d) {
    personalize::customers::RfmCollector c(budget());
    c.set_bins(2 + d.small(9));
    for (std::size_t i = d.count(10); i > 0; --i) c.add(d.small(30), d.small(5), d.small(100) * 0.5);
    return to_bytes(c);
}

Bytes read_kmeans(const unsigned char *data, std::size_t size) {
    const auto s = personalize::kmeans::KMeansFitState::deserialize(data, size, budget());
    if (s.has_options) s.options();
    return to_bytes(s);
}
Bytes make_kmeans(Draw &d) {
    personalize::kmeans::KMeansFitState s(budget());
    static const char *const scalings[] = {"none", "zscore", "log1p_zscore", "zscore, none"};
    s.set_options(1 + d.small(3), d.byte(), scalings[d.small(4)], 1 + d.small(50), d.small(3) * 1e-4);
    const std::size_t dim = 1 + static_cast<std::size_t>(d.small(3));
    for (std::size_t i = d.count(8); i > 0; --i) {
        double point[3];
        for (std::size_t j = 0; j < dim; ++j) point[j] = d.small(20) * 0.5;
        s.points.add(point, dim);
    }
    return to_bytes(s);
}

template <typename Core>
Bytes read_fit(const unsigned char *data, std::size_t size) {
    const auto s = personalize::lifetime::PenalizedFitState<Core>::deserialize(data, size, "fit");
    s.core.total_weight();
    return to_bytes(s);
}
template <typename Core>
Bytes make_transaction_fit(Draw &d) {
    personalize::lifetime::PenalizedFitState<Core> s;
    s.set_penalty(d.small(8) * 0.25, "fit");
    for (std::size_t i = d.count(8); i > 0; --i) {
        const double x = d.small(4), t_x = x > 0 ? 1 + d.small(5) : 0;
        s.core.add(x, t_x, t_x + d.small(5), 1 + d.small(3));
    }
    return to_bytes(s);
}
Bytes make_spend_fit(Draw &d) {
    personalize::lifetime::PenalizedFitState<personalize::lifetime::GammaGammaFitState> s;
    s.set_penalty(d.small(8) * 0.25, "fit");
    for (std::size_t i = d.count(8); i > 0; --i) s.core.add(d.small(4), d.small(50) - 5, 1 + d.small(3));
    return to_bytes(s);
}

Bytes read_als_fit(const unsigned char *data, std::size_t size) {
    personalize::als::AlsFitState s(budget());
    read_whole(data, size, "als_fit", [&](ByteReader &in) { s.read(in); });
    return to_bytes(s);
}
personalize::als::AlsOptions small_als_options(Draw &d) {
    personalize::als::AlsOptions o;
    o.factors = 1 + d.small(3);
    o.iterations = 1 + d.small(2);
    o.seed = d.byte();
    o.solver = d.small(2) ? personalize::als::AlsSolver::Cholesky : personalize::als::AlsSolver::ConjugateGradient;
    return o;
}
Bytes make_als_fit(Draw &d) {
    personalize::als::AlsFitState s(budget());
    s.set_options(small_als_options(d));
    for (std::size_t i = d.count(10); i > 0; --i) s.rows.add(d.small(4), d.small(5), 1 + d.small(3));
    return to_bytes(s);
}

Bytes read_als_model(const unsigned char *data, std::size_t size) {
    std::vector<std::uint64_t> aligned(size / 8 + 1);  // the model is read in place
    if (size != 0) std::memcpy(aligned.data(), data, size);
    const auto *bytes = reinterpret_cast<const unsigned char *>(aligned.data());
    personalize::als::AlsHeader::read(bytes, size);
    const auto view = personalize::als::AlsModelView::open(bytes, size);
    personalize::als::als_recommend(view, 0, 3, true);
    return Bytes(data, data + size);
}
Bytes make_als_model(Draw &d) {
    personalize::als::AlsCollector rows(budget());
    for (std::size_t i = 1 + d.count(6); i > 0; --i) rows.add(d.small(4), d.small(5), 1 + d.small(3));
    return to_bytes(personalize::als::als_fit(rows, small_als_options(d)));
}

Bytes read_logistic_fit(const unsigned char *data, std::size_t size) {
    personalize::propensity::LogisticFitState s(budget());
    read_whole(data, size, "logistic_fit", [&](ByteReader &in) { s.read(in); });
    return to_bytes(s);
}
Bytes make_logistic_fit(Draw &d) {
    personalize::propensity::LogisticFitState s(budget());
    personalize::propensity::LogisticOptions o;
    o.l2 = d.small(4);
    s.set_options(o);
    const std::size_t features = static_cast<std::size_t>(d.small(3));
    if (d.small(2)) s.set_names(std::vector<std::string>(features, "f"));
    for (std::size_t i = d.count(8); i > 0; --i) {
        double x[2];
        for (std::size_t j = 0; j < features; ++j) x[j] = d.small(10) - 5.0;
        s.rows.add(d.small(2) == 1, x, features);
    }
    return to_bytes(s);
}

Bytes read_auc(const unsigned char *data, std::size_t size) {
    personalize::propensity::AucCollector c(budget());
    read_whole(data, size, "auc", [&](ByteReader &in) { c.read(in); });
    const Bytes out = to_bytes(c);
    c.auc();
    return out;
}
Bytes make_auc(Draw &d) {
    personalize::propensity::AucCollector c(budget());
    for (std::size_t i = d.count(10); i > 0; --i) c.add(d.small(7) * 0.25, d.small(2) == 1);
    return to_bytes(c);
}

struct Kind {
    const char *name;
    Bytes (*read)(const unsigned char *, std::size_t);  // reads, uses and serialises again
    Bytes (*make)(Draw &);
    bool fingerprinted = false;  // the ALS model: its fingerprint is fixed after a damage
};

const Kind kKinds[] = {
    {"baskets", read_baskets, make_baskets},
    {"basket_lines", read_basket_lines, make_basket_lines},
    {"customer_summary", read_summary, make_summary},
    {"rfm_breakpoints", read_rfm, make_rfm},
    {"kmeans", read_kmeans, make_kmeans},
    {"bgnbd_fit", read_fit<personalize::lifetime::BgNbdFitState>,
     make_transaction_fit<personalize::lifetime::BgNbdFitState>},
    {"pareto_nbd_fit", read_fit<personalize::lifetime::ParetoNbdFitState>,
     make_transaction_fit<personalize::lifetime::ParetoNbdFitState>},
    {"gamma_gamma_fit", read_fit<personalize::lifetime::GammaGammaFitState>, make_spend_fit},
    {"als_fit", read_als_fit, make_als_fit},
    {"als_model", read_als_model, make_als_model, true},
    {"logistic_fit", read_logistic_fit, make_logistic_fit},
    {"auc", read_auc, make_auc},
};
constexpr std::size_t kKindCount = sizeof kKinds / sizeof kKinds[0];

// The damages of mode 1: bytes to xor at positions, then a length to cut to.
struct Damage {
    struct Flip {
        std::size_t at;
        unsigned char with;
    };
    std::vector<Flip> flips;
    std::size_t cut = 0;  // 0: keep the length

    static Damage draw(Draw &d) {
        Damage damage;
        for (std::size_t i = d.byte() % 8; i > 0; --i) {
            const std::size_t at = d.byte() << 8;
            damage.flips.push_back({at | d.byte(), static_cast<unsigned char>(d.byte())});
        }
        damage.cut = d.byte();
        return damage;
    }
    void apply(Bytes &value, bool fingerprinted) const {
        if (value.empty()) return;
        for (const Flip &f : flips) value[f.at % value.size()] ^= f.with;
        if (cut != 0) value.resize(cut % value.size());
        if (fingerprinted && value.size() >= personalize::als::kAlsFingerprintAt + 8) {
            const std::uint64_t fingerprint = personalize::als::als_fingerprint(value.data(), value.size());
            std::memcpy(value.data() + personalize::als::kAlsFingerprintAt, &fingerprint, sizeof fingerprint);
        }
    }
};

void run(const Kind &kind, const Bytes &bytes) {
    Bytes again;
    try {
        again = kind.read(bytes.data(), bytes.size());
    } catch (const Error &e) {
        if (e.code() != ErrorCode::DataCorrupted && e.code() != ErrorCode::OutOfMemory)
            fail(kind.name, std::string("unexpected error code: ") + e.what());
        return;
    } catch (const std::exception &e) {
        fail(kind.name, std::string("not a personalize::Error: ") + e.what());
    }
    try {
        expect_canonical(again, kind.read);
    } catch (const Error &e) {
        fail(kind.name, std::string("its own bytes do not read back: ") + e.what());
    }
}

// One valid value of each kind, raw (mode 0) and as the recipe of mode 1
// without damage, as files in `dir`.
void write_seeds(const std::string &dir) {
    // No damage (0 flips, no cut), then the content.
    const unsigned char content[] = {0, 0, 7, 6, 5, 9, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3,
                                     8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5, 0, 2, 8, 8, 4, 1, 9, 7, 1, 6,
                                     9, 3, 9, 9, 3, 7, 5, 1, 0, 5, 8, 2, 0, 9, 7, 4, 9, 4, 4, 5, 9, 2, 3, 0};
    for (std::size_t k = 0; k < kKindCount; ++k) {
        Draw d{content, sizeof content};
        Damage::draw(d);
        const Bytes value = kKinds[k].make(d);
        for (std::size_t mode = 0; mode < 2; ++mode) {
            Bytes seed{static_cast<unsigned char>(k + mode * kKindCount)};
            if (mode == 0)
                seed.insert(seed.end(), value.begin(), value.end());
            else
                seed.insert(seed.end(), content, content + sizeof content);
            const std::string path = dir + "/" + kKinds[k].name + (mode == 0 ? "" : "_recipe");
            FILE *f = std::fopen(path.c_str(), "wb");
            if (f == nullptr || std::fwrite(seed.data(), 1, seed.size(), f) != seed.size() || std::fclose(f) != 0)
                fail("seeds", "cannot write " + path);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    if (const char *dir = std::getenv("BYTES_FUZZ_WRITE_SEEDS")) {
        write_seeds(dir);
        std::exit(0);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0) return 0;
    const Kind &kind = kKinds[data[0] % kKindCount];
    if (data[0] / kKindCount % 2 == 0) {
        run(kind, Bytes(data + 1, data + size));
        return 0;
    }
    Draw d{data + 1, size - 1};
    const Damage damage = Damage::draw(d);
    Bytes value = kind.make(d);
    damage.apply(value, kind.fingerprinted);
    run(kind, value);
    return 0;
}
