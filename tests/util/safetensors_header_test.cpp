// util::parse_safetensors_header: what it guarantees for every tensor of a header (the model's weights
// reader and the scene's embedding caches both rely on it).
#include "util/safetensors_header.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

using namespace um::util;

namespace {

// 8-byte little-endian length + header + `body` zero bytes.
std::string with_header(const std::string& header, size_t body) {
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + std::string(body, '\0');
}

SafetensorsHeader parse(const std::string& file) {
  return parse_safetensors_header(file, file.size(), "t.st");
}

// The message of the util::Error that parsing `file` throws, or "" when it parses.
std::string error_of(const std::string& file) {
  try {
    parse(file);
  } catch (const Error& e) {
    EXPECT_EQ(e.where().file, "t.st");
    return e.message();
  }
  return "";
}

}  // namespace

TEST(SafetensorsHeader, ReadsEveryTensorAndTheStringMetadata) {
  const std::string h =
      R"({"__metadata__":{"format":"pt","n":3},"b":{"dtype":"BF16","shape":[3],"data_offsets":[24,30]},)"
      R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"z":{"dtype":"I64","shape":[0,7],"data_offsets":[30,30]}})";
  std::string file = with_header(h, 30);
  SafetensorsHeader got = parse(file);
  EXPECT_EQ(got.data_begin, 8 + h.size());
  ASSERT_EQ(got.tensors.size(), 3u);
  const SafetensorsTensor& a = got.at("a", "t.st");
  EXPECT_EQ(a.dtype, "F32");
  EXPECT_EQ(a.dtype_size, 4u);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.numel(), 6u);
  EXPECT_EQ(a.begin, 0u);
  EXPECT_EQ(a.nbytes(), 24u);
  EXPECT_EQ(got.at("b", "t.st").dtype_size, 2u);
  EXPECT_EQ(got.at("b", "t.st").begin, 24u);
  EXPECT_EQ(got.at("z", "t.st").numel(), 0u);
  // Only string metadata values are kept.
  EXPECT_EQ(got.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  try {
    got.at("missing", "t.st");
    ADD_FAILURE() << "found a tensor the header does not have";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().field, "missing");
  }
  EXPECT_EQ(safetensors_dtype_size("F64"), 8u);
  EXPECT_EQ(safetensors_dtype_size("F8_E4M3"), 1u);
  EXPECT_EQ(safetensors_dtype_size("f32"), 0u);
}

// Every tensor is checked, including ones no caller asks for: one bad entry fails the whole header.
TEST(SafetensorsHeader, ChecksEveryTensorNotOnlyTheOneRead) {
  const std::string good = R"("emb":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]})";
  EXPECT_EQ(error_of(with_header("{" + good + "}", 8)), "");
  auto with_other = [&](const std::string& other) {
    return with_header("{" + good + ",\"x\":" + other + "}", 8);
  };
  EXPECT_EQ(error_of(with_other(R"({"dtype":"F32","shape":[1],"data_offsets":[4,12]})")),
            "data_offsets out of range");
  EXPECT_EQ(error_of(with_other(R"({"dtype":"F32","shape":[1],"data_offsets":[8,4]})")),
            "data_offsets out of range");
  EXPECT_EQ(error_of(with_other(R"({"dtype":"F32","shape":[1],"data_offsets":[0,8,9]})")),
            "data_offsets out of range");
  EXPECT_EQ(error_of(with_other(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})")),
            "shape does not match data_offsets");
  EXPECT_EQ(error_of(with_other(R"({"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]})")),
            "negative dimension in shape");
  EXPECT_NE(error_of(with_other(R"({"dtype":"F32","shape":[2]})")).find("malformed safetensors header"),
            std::string::npos);
  EXPECT_NE(error_of(with_other(R"("F32")")).find("malformed safetensors header"), std::string::npos);
  try {
    parse(with_other(R"({"dtype":"Q4","shape":[1],"data_offsets":[0,1]})"));
    ADD_FAILURE() << "accepted an unknown dtype";
  } catch (const NotSupported& e) {
    EXPECT_EQ(e.where().field, "x.dtype");
  }
}

// The element count is bounded by the bytes present before it is multiplied, so a shape whose
// product wraps around 2^64 (here 2^32 × 2^32 = 0 mod 2^64, matching an empty byte range) is refused.
TEST(SafetensorsHeader, ShapeProductsThatOverflowAreRefused) {
  EXPECT_EQ(error_of(with_header(
                R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0)),
            "shape does not match data_offsets");
  EXPECT_EQ(error_of(with_header(
                R"({"w":{"dtype":"F16","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", 8)),
            "shape does not match data_offsets");
}

TEST(SafetensorsHeader, LengthAndJsonErrors) {
  EXPECT_EQ(error_of(std::string(5, '\0')), "file too short for a safetensors header");
  std::string file = with_header("{}", 0);
  file[0] = 100;  // header length past the end of the file
  EXPECT_EQ(error_of(file), "safetensors header length exceeds the file size");
  // The caller handed fewer bytes than the header needs.
  std::string whole = with_header("{}", 16);
  try {
    parse_safetensors_header(std::string_view(whole).substr(0, 9), whole.size(), "t.st");
    ADD_FAILURE() << "parsed a truncated header";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "truncated safetensors header");
  }
  EXPECT_NE(error_of(with_header("{\"a\":", 0)).find("invalid safetensors header JSON"), std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":1e999})", 0)).find("invalid safetensors header JSON"),
            std::string::npos);
  EXPECT_EQ(error_of(with_header("[1,2]", 0)), "safetensors header is not a JSON object");
  EXPECT_EQ(parse(with_header("{}", 0)).tensors.size(), 0u);
}
