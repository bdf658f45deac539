// The one byte format of every serialised value of pg_personalize (an
// aggregate's partial state, a stored personalize.baskets or
// personalize.als_model): ByteWriter writes it, ByteReader reads it
// (docs/architecture.md, "One byte format"; the tags are in byte_formats.hpp).
//
//   header  u32 tag (four ASCII characters, stored in that order),
//           u16 version, u16 flags (none defined: always 0)
//   fields  fixed-width little-endian integers, IEEE-754 doubles and floats;
//           counts are u64, strings a u64 length and the bytes, arrays their
//           elements back to back (the count is written before them)
//
// A type writes itself with `void write(ByteWriter &) const`: byte_size()
// runs it on a writer that only measures, write_bytes() on one that fills a
// buffer of exactly that size, so no caller counts offsets.
//
// ByteReader treats its input as hostile (values travel between servers):
// every read is bounds-checked, a count is checked against the bytes still
// present before anything is allocated for it, and every problem is
// Error(DataCorrupted, "<what>: the value is corrupted: <detail>").
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/common/error.hpp"

namespace personalize {

// Fields and bulk arrays are copied as they are in memory, which is the
// format's byte order on a little-endian host only. A big-endian port adds
// the byte swaps to ByteWriter::put_raw / ByteReader::get_raw (and a
// converted copy of the ALS model, which is read in place).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the byte format (core/common/bytes.hpp) is little-endian; this host is not");

// Four ASCII characters, in the order they are stored: byte_tag("PBK1").
constexpr std::uint32_t byte_tag(const char (&text)[5]) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(text[0])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(text[1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(text[2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(text[3])) << 24;
}

// The header of one kind of value: what a writer writes and what a reader
// accepts (versions oldest_version .. version).
struct ByteFormat {
    std::uint32_t tag;
    std::uint16_t version;         // the version this library writes
    std::uint16_t oldest_version;  // the oldest version it still reads
};

constexpr std::size_t kByteHeaderSize = 8;

class ByteWriter {
public:
    // A writer that only measures: size() is the size of what was written.
    ByteWriter() = default;
    // A writer into exactly `capacity` bytes at `out` (finish() checks that
    // they were all written).
    ByteWriter(unsigned char *out, std::size_t capacity) : out_(out), capacity_(capacity) {}

    bool measuring() const { return out_ == nullptr; }
    std::size_t size() const { return size_; }
    // The bytes written so far (nullptr when measuring).
    const unsigned char *data() const { return out_; }

    void header(const ByteFormat &format) {
        put(format.tag);
        put(format.version);
        put(std::uint16_t{0});
    }
    template <typename T>
    void put(T value) {
        static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "put_bool() writes a bool");
        put_raw(&value, sizeof value);
    }
    void put_bool(bool value) { put<std::uint8_t>(value ? 1 : 0); }
    void put_count(std::size_t count) { put(static_cast<std::uint64_t>(count)); }
    // n elements as they are in memory: arithmetic values, or records of
    // them without padding (the caller static_asserts the record's size).
    template <typename T>
    void put_array(const T *values, std::size_t n) {
        static_assert(std::is_trivially_copyable_v<T>);
        put_raw(values, n * sizeof(T));
    }
    void put_string(std::string_view s) {
        put_count(s.size());
        put_raw(s.data(), s.size());
    }
    // The count, then the elements of a vector (std::vector, ChargedVector).
    template <typename Vector>
    void put_counted(const Vector &v) {
        put_count(v.size());
        put_array(v.data(), v.size());
    }
    // Zero bytes up to the next multiple of `multiple` bytes from the start.
    void pad_to(std::size_t multiple);
    // Counts `bytes` without producing them: for a write function that skips
    // costly work when measuring() (Internal error on a writing writer).
    void measure_only(std::size_t bytes);
    // Replaces the bytes of an earlier put<T>(...) at `at` (a checksum).
    template <typename T>
    void overwrite(std::size_t at, T value) {
        static_assert(std::is_arithmetic_v<T>);
        if (out_ == nullptr) return;
        if (at > size_ || size_ - at < sizeof value) overflow(sizeof value);
        std::memcpy(out_ + at, &value, sizeof value);
    }
    // Internal error unless exactly the capacity was written.
    void finish() const;

private:
    void put_raw(const void *bytes, std::size_t n) {
        if (out_ != nullptr) {
            if (capacity_ - size_ < n) overflow(n);
            if (n != 0) std::memcpy(out_ + size_, bytes, n);
        } else if (n > SIZE_MAX - size_) {
            overflow(n);
        }
        size_ += n;
    }
    [[noreturn]] void overflow(std::size_t n) const;

    unsigned char *out_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t size_ = 0;
};

class ByteReader {
public:
    // `what` names the value in error messages ("baskets"); it must outlive
    // the reader (a string literal).
    ByteReader(const unsigned char *data, std::size_t size, const char *what);

    // Reads a header: DataCorrupted unless it has format.tag, a version
    // from format.oldest_version to format.version and no flags. Returns
    // the version read.
    std::uint16_t header(const ByteFormat &format);

    template <typename T>
    T get() {
        static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "get_bool() reads a bool");
        T value;
        get_raw(&value, 1, sizeof value);
        return value;
    }
    bool get_bool();  // a u8 that must be 0 or 1
    // A u64 count of elements of at least `bytes_each` bytes each
    // (>= 1): DataCorrupted unless that many bytes are still present, so a
    // count can size an allocation.
    std::size_t get_count(std::size_t bytes_each);
    // n elements into `out` (see ByteWriter::put_array).
    template <typename T>
    void get_array(T *out, std::size_t n) {
        static_assert(std::is_trivially_copyable_v<T>);
        get_raw(out, n, sizeof(T));
    }
    // n elements read in place: the data must stay alive and be aligned for T
    // there (Internal error otherwise).
    template <typename T>
    const T *view_array(std::size_t n) {
        static_assert(std::is_trivially_copyable_v<T>);
        const unsigned char *at = data_ + pos_;
        if (reinterpret_cast<std::uintptr_t>(at) % alignof(T) != 0) misaligned();
        get_raw(nullptr, n, sizeof(T));
        return reinterpret_cast<const T *>(at);
    }
    std::string get_string();
    // Appends what put_counted wrote to `v` (whose resize charges a
    // ChargedVector's budget); returns the index of the first element read.
    template <typename Vector>
    std::size_t append_counted(Vector &v) {
        const std::size_t count = get_count(sizeof(v.data()[0]));
        const std::size_t first = v.size();
        v.resize(first + count);
        get_array(v.data() + first, count);
        return first;
    }
    // Skips to the next multiple of `multiple` bytes from the start; the
    // bytes skipped must be zero.
    void skip_padding(std::size_t multiple);

    // Runs `check`, a type's own validation of what was read (e.g. its
    // set_options): an InvalidParameter error becomes DataCorrupted naming
    // `what`.
    template <typename Check>
    void validated(const char *what, Check &&check) const {
        try {
            check();
        } catch (const Error &e) {
            if (e.code() != ErrorCode::InvalidParameter) throw;
            corrupted(std::string(what) + " (" + e.what() + ")");
        }
    }

    std::size_t position() const { return pos_; }
    std::size_t remaining() const { return size_ - pos_; }
    // DataCorrupted when bytes are left over.
    void expect_end() const;
    [[noreturn]] void corrupted(const std::string &detail) const;

private:
    // Copies n elements of `each` bytes to `out` (nullptr: only skips them).
    void get_raw(void *out, std::size_t n, std::size_t each) {
        if (n > (size_ - pos_) / each) truncated(n, each);
        if (out != nullptr && n != 0) std::memcpy(out, data_ + pos_, n * each);
        pos_ += n * each;
    }
    [[noreturn]] void truncated(std::size_t n, std::size_t each) const;
    [[noreturn]] void misaligned() const;

    const unsigned char *data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    const char *what_;
};

// The byte form of `value` (anything with `void write(ByteWriter &) const`).
template <typename T>
std::size_t byte_size(const T &value) {
    ByteWriter measure;
    value.write(measure);
    return measure.size();
}
// Writes `value` into exactly `size` bytes (byte_size(value)).
template <typename T>
void write_bytes(const T &value, unsigned char *out, std::size_t size) {
    ByteWriter writer(out, size);
    value.write(writer);
    writer.finish();
}
template <typename T>
std::vector<unsigned char> to_bytes(const T &value) {
    std::vector<unsigned char> bytes(byte_size(value));
    write_bytes(value, bytes.data(), bytes.size());
    return bytes;
}

// Reads one whole value: read(ByteReader &) must consume every byte
// (DataCorrupted otherwise). Returns what `read` returns.
template <typename Read>
auto read_whole(const unsigned char *data, std::size_t size, const char *what, Read &&read) {
    ByteReader in(data, size, what);
    if constexpr (std::is_void_v<decltype(read(in))>) {
        read(in);
        in.expect_end();
    } else {
        auto value = read(in);
        in.expect_end();
        return value;
    }
}

}  // namespace personalize
