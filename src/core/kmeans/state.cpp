// The kmeans() aggregate state: options agreement, merge and byte form.
#include "core/kmeans/state.hpp"

#include "core/common/byte_formats.hpp"
#include "core/common/same_for_every_row.hpp"

namespace personalize::kmeans {

void KMeansFitState::set_options(std::int64_t k_, std::uint64_t seed_, std::string_view scaling_,
                                 std::int64_t max_it_, double tol_) {
    same_for_every_row(
        has_options, "kmeans",
        [&] {
            k = k_, seed = seed_, scaling = scaling_, max_iterations = max_it_, tolerance = tol_;
            options().validate();
        },
        {{"k", k_ == k},
         {"seed", seed_ == seed},
         {"scaling", scaling_ == scaling},
         {"max_iterations", max_it_ == max_iterations},
         {"tolerance", tol_ == tolerance}});
}

KMeansOptions KMeansFitState::options() const {
    KMeansOptions o;
    o.k = k;
    o.seed = seed;
    o.max_iterations = max_iterations;
    o.tolerance = tolerance;
    std::size_t start = 0;
    while (start <= scaling.size()) {
        const std::size_t comma = scaling.find(',', start);
        const std::string part = scaling.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        std::size_t b = part.find_first_not_of(' '), e = part.find_last_not_of(' ');
        o.scaling.push_back(parse_kmeans_scaling(b == std::string::npos ? "" : part.substr(b, e - b + 1)));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return o;
}

void KMeansFitState::merge(const KMeansFitState &other) {
    if (other.has_options) set_options(other.k, other.seed, other.scaling, other.max_iterations, other.tolerance);
    points.merge(other.points);
}

// Layout after the header: u8 has_options, i64 k, u64 seed, i64
// max_iterations, f64 tolerance, string scaling, then the points (a value
// of their own, with its header).
void KMeansFitState::write(ByteWriter &out) const {
    out.header(byte_formats::kKMeansState);
    out.put_bool(has_options);
    out.put(k);
    out.put(seed);
    out.put(max_iterations);
    out.put(tolerance);
    out.put_string(scaling);
    points.write(out);
}

KMeansFitState KMeansFitState::deserialize(const unsigned char *data, std::size_t size, MemoryBudget budget) {
    return read_whole(data, size, "kmeans", [&](ByteReader &in) {
        in.header(byte_formats::kKMeansState);
        const bool has_options = in.get_bool();
        const auto k = in.get<std::int64_t>();
        const auto seed = in.get<std::uint64_t>();
        const auto max_iterations = in.get<std::int64_t>();
        const auto tolerance = in.get<double>();
        const std::string scaling = in.get_string();
        KMeansFitState state(budget);
        if (has_options)
            in.validated("bad options", [&] { state.set_options(k, seed, scaling, max_iterations, tolerance); });
        state.points = KMeansBuilder::read(in, std::move(budget));
        return state;
    });
}

}  // namespace personalize::kmeans
