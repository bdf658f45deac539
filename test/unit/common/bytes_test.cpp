#include "core/common/bytes.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"
#include "bytes_test_util.hpp"

namespace personalize {
namespace {

constexpr ByteFormat kTest{byte_tag("TST1"), 3, 2};

// A value with one field of every kind.
struct Sample {
    std::int32_t i = -7;
    double d = 0.1;
    bool b = true;
    std::string s = "héllo";
    std::vector<std::uint64_t> words{1, 2, 0xFFFFFFFFFFFFFFFFull};

    void write(ByteWriter &out) const {
        out.header(kTest);
        out.put(i);
        out.put(d);
        out.put_bool(b);
        out.put_string(s);
        out.put_count(words.size());
        out.put_array(words.data(), words.size());
    }
    static Sample read(ByteReader &in) {
        in.header(kTest);
        Sample v;
        v.i = in.get<std::int32_t>();
        v.d = in.get<double>();
        v.b = in.get_bool();
        v.s = in.get_string();
        v.words.resize(in.get_count(sizeof(std::uint64_t)));
        in.get_array(v.words.data(), v.words.size());
        return v;
    }
};

Sample read_sample(const unsigned char *data, std::size_t size) {
    return read_whole(data, size, "sample", Sample::read);
}

std::string message_of(const std::vector<unsigned char> &bytes) {
    try {
        read_sample(bytes.data(), bytes.size());
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::DataCorrupted) << e.what();
        return e.what();
    }
    return "no error";
}

TEST(Bytes, TagsAreTheirCharactersInOrder) {
    EXPECT_EQ(byte_tag("PBK1"), 0x314B4250u);  // the tag 0.1.0 wrote for personalize.baskets
    EXPECT_EQ(byte_tag("ALM1"), 0x314D4C41u);  // and for personalize.als_model
    EXPECT_TRUE(byte_formats::tags_distinct());
}

TEST(Bytes, TheLayoutIsLittleEndianWithTheHeaderFirst) {
    const auto bytes = to_bytes(Sample());
    EXPECT_EQ(bytes, testing::from_hex("5453543103000000"  // "TST1", version 3, flags 0
                                       "f9ffffff"          // -7
                                       "9a9999999999b93f"  // 0.1
                                       "01"                // true
                                       "0600000000000000" "68c3a96c6c6f"  // "héllo"
                                       "0300000000000000" "0100000000000000" "0200000000000000"
                                       "ffffffffffffffff"));
}

TEST(Bytes, RoundTrip) {
    Sample v;
    v.d = -std::numeric_limits<double>::infinity();
    v.b = false;
    v.s = std::string("a\0b", 3);
    v.words.clear();
    const auto bytes = to_bytes(v);
    EXPECT_EQ(bytes.size(), byte_size(v));
    const Sample back = read_sample(bytes.data(), bytes.size());
    EXPECT_EQ(back.i, v.i);
    EXPECT_EQ(back.d, v.d);
    EXPECT_EQ(back.b, v.b);
    EXPECT_EQ(back.s, v.s);
    EXPECT_TRUE(back.words.empty());
    EXPECT_EQ(to_bytes(back), bytes);
}

TEST(Bytes, EveryTruncationAndTrailingBytesAreRejected) {
    testing::expect_truncations_rejected(to_bytes(Sample()), read_sample);
    auto longer = to_bytes(Sample());
    longer.push_back(0);
    longer.push_back(0);
    EXPECT_EQ(message_of(longer), "sample: the value is corrupted: 2 bytes after the end of the value");
    EXPECT_EQ(message_of({}), "sample: the value is corrupted: truncated (4 bytes needed at byte 0, 0 left)");
    EXPECT_EQ(testing::error_code([] { read_sample(nullptr, 8); }), ErrorCode::DataCorrupted);
}

TEST(Bytes, HeaderChecksTagVersionsAndFlags) {
    const auto good = to_bytes(Sample());
    auto bytes = good;
    bytes[0] = 'X';
    EXPECT_EQ(message_of(bytes), "sample: the value is corrupted: type tag \"XST1\" is not the expected \"TST1\"");
    bytes[0] = 0x01;
    EXPECT_EQ(message_of(bytes), "sample: the value is corrupted: type tag 0x31545301 is not the expected \"TST1\"");
    bytes = good;
    bytes[4] = 4;  // newer than this library
    EXPECT_EQ(message_of(bytes),
              "sample: the value is corrupted: format version 4 is not supported (this library reads versions 2 to 3)");
    try {
        read_sample(bytes.data(), bytes.size());
    } catch (const Error &e) {
        EXPECT_EQ(e.hint(), "The value was written by a newer pg_personalize.");
    }
    bytes[4] = 1;  // older than the oldest still read
    EXPECT_EQ(message_of(bytes),
              "sample: the value is corrupted: format version 1 is not supported (this library reads versions 2 to 3)");
    bytes[4] = 2;  // an older version that is still read
    EXPECT_EQ(message_of(bytes), "no error");
    bytes = good;
    bytes[7] = 1;
    EXPECT_EQ(message_of(bytes), "sample: the value is corrupted: unknown flags 256");
}

TEST(Bytes, CountsAreBoundedByTheBytesPresent) {
    auto bytes = to_bytes(Sample());
    // The word count (8 bytes before the three words) claims one word more.
    const std::size_t at = bytes.size() - 3 * 8 - 8;
    bytes[at] = 4;
    EXPECT_EQ(message_of(bytes), "sample: the value is corrupted: a count of 4 is larger than the data (24 bytes left)");
    for (int k = 0; k < 8; ++k) bytes[at + k] = 0xFF;
    EXPECT_EQ(message_of(bytes),
              "sample: the value is corrupted: a count of 18446744073709551615 is larger than the data (24 bytes left)");
    // A string length past the end.
    bytes = to_bytes(Sample());
    bytes[8 + 4 + 8 + 1] = 200;
    EXPECT_NE(message_of(bytes).find("a count of 200 is larger than the data"), std::string::npos);
    // A flag byte must be 0 or 1.
    bytes = to_bytes(Sample());
    bytes[8 + 4 + 8] = 2;
    EXPECT_EQ(message_of(bytes), "sample: the value is corrupted: a flag byte is 2, not 0 or 1");
}

TEST(Bytes, ElementCountsCannotOverflow) {
    std::vector<unsigned char> bytes(16, 0xFF);
    ByteReader in(bytes.data(), bytes.size(), "x");
    std::uint64_t out[2];
    EXPECT_EQ(testing::error_code([&] { in.get_array(out, std::numeric_limits<std::size_t>::max() / 4); }),
              ErrorCode::DataCorrupted);
    EXPECT_EQ(testing::error_code([&] { in.get_count(std::numeric_limits<std::size_t>::max()); }),
              ErrorCode::DataCorrupted);
    EXPECT_EQ(in.position(), 8u);  // the count was read, nothing else
}

TEST(Bytes, PaddingIsZeroAndInPlaceArraysAreAligned) {
    struct Padded {
        void write(ByteWriter &out) const {
            out.put(std::uint8_t{5});
            out.pad_to(8);
            const float f[2] = {1.5f, 2.5f};
            out.put_array(f, 2);
        }
    };
    const auto bytes = to_bytes(Padded());
    ASSERT_EQ(bytes.size(), 16u);
    std::vector<std::uint64_t> aligned(2);
    std::memcpy(aligned.data(), bytes.data(), 16);
    const auto *data = reinterpret_cast<const unsigned char *>(aligned.data());
    ByteReader in(data, 16, "padded");
    EXPECT_EQ(in.get<std::uint8_t>(), 5);
    in.skip_padding(8);
    const float *f = in.view_array<float>(2);
    EXPECT_EQ(f[1], 2.5f);
    in.expect_end();

    reinterpret_cast<unsigned char *>(aligned.data())[3] = 1;
    ByteReader dirty(data, 16, "padded");
    dirty.get<std::uint8_t>();
    EXPECT_EQ(testing::error_code([&] { dirty.skip_padding(8); }), ErrorCode::DataCorrupted);

    ByteReader odd(data + 1, 15, "padded");
    EXPECT_EQ(testing::error_code([&] { odd.view_array<float>(1); }), ErrorCode::Internal);
}

TEST(Bytes, TheWriterChecksItsBuffer) {
    const Sample v;
    std::vector<unsigned char> small(byte_size(v) - 1), large(byte_size(v) + 1);
    EXPECT_EQ(testing::error_code([&] { write_bytes(v, small.data(), small.size()); }), ErrorCode::Internal);
    EXPECT_EQ(testing::error_code([&] { write_bytes(v, large.data(), large.size()); }), ErrorCode::Internal);
    ByteWriter writer(large.data(), large.size());
    EXPECT_EQ(testing::error_code([&] { writer.measure_only(1); }), ErrorCode::Internal);
    ByteWriter measure;
    measure.measure_only(10);
    measure.put(std::uint16_t{1});
    EXPECT_EQ(measure.size(), 12u);
    EXPECT_TRUE(measure.measuring());
}

TEST(Bytes, ValidationErrorsBecomeCorruption) {
    const std::vector<unsigned char> none;
    ByteReader in(none.data(), 0, "thing");
    try {
        in.validated("bad options", [] { throw_invalid("thing: \"k\" must be positive"); });
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::DataCorrupted);
        EXPECT_STREQ(e.what(), "thing: the value is corrupted: bad options (thing: \"k\" must be positive)");
    }
    EXPECT_EQ(testing::error_code([&] {
                  in.validated("x", [] { throw Error(ErrorCode::OutOfMemory, "no memory"); });
              }),
              ErrorCode::OutOfMemory);
}

}  // namespace
}  // namespace personalize
