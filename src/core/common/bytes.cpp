// The out-of-line parts of ByteWriter and ByteReader: padding, the header
// check and the error messages.
#include "core/common/bytes.hpp"

#include <cstdio>

namespace personalize {

namespace {

// "PBK1", or 0x00112233 when the tag is not four printable characters.
std::string tag_text(std::uint32_t tag) {
    std::string text = "\"";
    for (int i = 0; i < 4; ++i) {
        const auto c = static_cast<unsigned char>(tag >> (8 * i));
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
            char hex[16];
            std::snprintf(hex, sizeof hex, "0x%08X", static_cast<unsigned>(tag));
            return hex;
        }
        text += static_cast<char>(c);
    }
    return text + "\"";
}

std::string versions_text(const ByteFormat &format) {
    if (format.oldest_version == format.version) return "version " + std::to_string(format.version);
    return "versions " + std::to_string(format.oldest_version) + " to " + std::to_string(format.version);
}

}  // namespace

// ---------------------------------------------------------------- writer

void ByteWriter::pad_to(std::size_t multiple) {
    static const unsigned char zeros[64] = {};
    std::size_t n = (multiple - size_ % multiple) % multiple;
    while (n > 0) {
        const std::size_t chunk = n < sizeof zeros ? n : sizeof zeros;
        put_raw(zeros, chunk);
        n -= chunk;
    }
}

void ByteWriter::measure_only(std::size_t bytes) {
    if (out_ != nullptr) throw Error(ErrorCode::Internal, "byte writer: measure_only() on a writer that writes");
    if (bytes > SIZE_MAX - size_) overflow(bytes);
    size_ += bytes;
}

void ByteWriter::overflow(std::size_t n) const {
    throw Error(ErrorCode::Internal, "byte writer: " + std::to_string(n) + " more bytes do not fit after " +
                                         std::to_string(size_) + " of " + std::to_string(capacity_));
}

void ByteWriter::finish() const {
    if (out_ != nullptr && size_ != capacity_)
        throw Error(ErrorCode::Internal, "byte writer: wrote " + std::to_string(size_) + " bytes into a buffer of " +
                                             std::to_string(capacity_));
}

// ---------------------------------------------------------------- reader

ByteReader::ByteReader(const unsigned char *data, std::size_t size, const char *what)
    : data_(data), size_(data == nullptr ? 0 : size), what_(what) {
    if (data == nullptr && size != 0) corrupted("no data");
}

std::uint16_t ByteReader::header(const ByteFormat &format) {
    const auto tag = get<std::uint32_t>();
    if (tag != format.tag) corrupted("type tag " + tag_text(tag) + " is not the expected " + tag_text(format.tag));
    const auto version = get<std::uint16_t>();
    if (version < format.oldest_version || version > format.version) {
        std::string message = std::string(what_) + ": the value is corrupted: format version " + std::to_string(version) +
                              " is not supported (this library reads " + versions_text(format) + ")";
        throw Error(ErrorCode::DataCorrupted, message, {},
                    version > format.version ? "The value was written by a newer pg_personalize." : "");
    }
    const auto flags = get<std::uint16_t>();
    if (flags != 0) corrupted("unknown flags " + std::to_string(flags));
    return version;
}

bool ByteReader::get_bool() {
    const auto value = get<std::uint8_t>();
    if (value > 1) corrupted("a flag byte is " + std::to_string(value) + ", not 0 or 1");
    return value == 1;
}

std::size_t ByteReader::get_count(std::size_t bytes_each) {
    const auto count = get<std::uint64_t>();
    if (count > remaining() / bytes_each)
        corrupted("a count of " + std::to_string(count) + " is larger than the data (" + std::to_string(remaining()) +
                  " bytes left)");
    return static_cast<std::size_t>(count);
}

std::string ByteReader::get_string() {
    const std::size_t length = get_count(1);
    if (length == 0) return std::string();
    std::string s(reinterpret_cast<const char *>(data_ + pos_), length);
    pos_ += length;
    return s;
}

void ByteReader::skip_padding(std::size_t multiple) {
    const std::size_t n = (multiple - pos_ % multiple) % multiple;
    if (n > remaining()) truncated(n, 1);
    for (std::size_t i = 0; i < n; ++i)
        if (data_[pos_ + i] != 0) corrupted("padding is not zero");
    pos_ += n;
}

void ByteReader::expect_end() const {
    if (pos_ != size_) corrupted(std::to_string(size_ - pos_) + " bytes after the end of the value");
}

void ByteReader::corrupted(const std::string &detail) const {
    throw Error(ErrorCode::DataCorrupted, std::string(what_) + ": the value is corrupted: " + detail);
}

void ByteReader::truncated(std::size_t n, std::size_t each) const {
    const std::string needed = n > SIZE_MAX / each ? "more" : std::to_string(n * each);
    corrupted("truncated (" + needed + " bytes needed at byte " + std::to_string(pos_) + ", " +
              std::to_string(size_ - pos_) + " left)");
}

void ByteReader::misaligned() const {
    throw Error(ErrorCode::Internal, std::string(what_) + ": bytes read in place are not aligned");
}

}  // namespace personalize
