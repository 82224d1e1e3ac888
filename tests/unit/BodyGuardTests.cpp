// Bodies that would crash Orthanc: deep JSON, deeply nested DICOM sequences
// (in every encoding a parser follows), and such files inside a ZIP.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <string>

#include "Common/ZipReader.h"
#include "Dicom/DicomNesting.h"
#include "Dicom/UploadCheck.h"
#include "Security/BodyGuard.h"
#include "Share/ZipWriter.h"

using namespace HospitalBridge;

namespace {
std::string U16(uint16_t v) { return std::string{static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}; }
std::string U32(uint32_t v) {
  return std::string{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                     static_cast<char>((v >> 16) & 0xff), static_cast<char>(v >> 24)};
}
std::string Tag(uint16_t group, uint16_t element) { return U16(group) + U16(element); }

// An explicit-VR little-endian short element.
std::string Short(uint16_t group, uint16_t element, const char* vr, const std::string& value) {
  return Tag(group, element) + vr + U16(static_cast<uint16_t>(value.size())) + value;
}

enum class Style { kExplicitUndefined, kExplicitDefined, kImplicitUndefined, kImplicitDefined, kUnUndefined };

// A ContentSequence (0040,A730) nested `depth` levels around one text element.
std::string Nested(int depth, Style style) {
  // Inside an undefined-length UN element the encoding is implicit VR.
  const bool implicitVr = style != Style::kExplicitUndefined && style != Style::kExplicitDefined;
  std::string inner =
      implicitVr ? Tag(0x0040, 0xA160) + U32(4) + "leaf" : Short(0x0040, 0xA160, "UT", "leaf");
  for (int i = 0; i < depth; i++) {
    std::string item;
    std::string sequence;
    const bool undefined = style == Style::kExplicitUndefined || style == Style::kImplicitUndefined ||
                           style == Style::kUnUndefined;
    if (undefined) {
      item = Tag(0xFFFE, 0xE000) + U32(0xFFFFFFFF) + inner + Tag(0xFFFE, 0xE00D) + U32(0);
      sequence = item + Tag(0xFFFE, 0xE0DD) + U32(0);
    } else {
      item = Tag(0xFFFE, 0xE000) + U32(static_cast<uint32_t>(inner.size())) + inner;
      sequence = item;
    }
    const uint32_t length = undefined ? 0xFFFFFFFF : static_cast<uint32_t>(sequence.size());
    if (style == Style::kUnUndefined && i == depth - 1) {
      inner = Tag(0x0041, 0x1010) + "UN" + U16(0) + U32(length) + sequence;  // the outermost only
    } else if (implicitVr) {
      inner = Tag(0x0040, 0xA730) + U32(length) + sequence;
    } else {
      inner = Tag(0x0040, 0xA730) + "SQ" + U16(0) + U32(length) + sequence;
    }
  }
  return inner;
}

std::string Part10(const std::string& dataset, const std::string& transferSyntax) {
  std::string syntax = transferSyntax;
  if (syntax.size() % 2 != 0) syntax.push_back('\0');
  std::string meta = Short(0x0002, 0x0010, "UI", syntax);
  return std::string(128, '\0') + "DICM" +
         Short(0x0002, 0x0000, "UL", U32(static_cast<uint32_t>(meta.size()))) + meta + dataset;
}

const char kExplicit[] = "1.2.840.10008.1.2.1";
const char kImplicit[] = "1.2.840.10008.1.2";

std::string Deflate(const std::string& data) {
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}
}  // namespace

TEST(DicomNesting, CountsEveryEncodingOfNestedSequences) {
  const struct {
    Style style;
    const char* syntax;
  } cases[] = {{Style::kExplicitUndefined, kExplicit},
               {Style::kExplicitDefined, kExplicit},
               {Style::kImplicitUndefined, kImplicit},
               {Style::kImplicitDefined, kImplicit},
               {Style::kUnUndefined, kExplicit}};
  for (const auto& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.style));
    const NestingCheck shallow = CheckDicomNesting(Part10(Nested(5, c.style), c.syntax), 32);
    EXPECT_TRUE(shallow.acceptable);
    EXPECT_EQ(5, shallow.deepest);
    const NestingCheck deep = CheckDicomNesting(Part10(Nested(200, c.style), c.syntax), 32);
    EXPECT_FALSE(deep.acceptable);
    EXPECT_NE(std::string::npos, deep.reason.find("32 levels")) << deep.reason;
  }
}

TEST(DicomNesting, LooksInsideDeflatedDatasetsAndBareDatasets) {
  const std::string deep = Nested(100, Style::kExplicitUndefined);
  EXPECT_FALSE(CheckDicomNesting(Part10(Deflate(deep), "1.2.840.10008.1.2.1.99"), 32).acceptable);
  EXPECT_TRUE(
      CheckDicomNesting(Part10(Deflate(Nested(3, Style::kExplicitUndefined)), "1.2.840.10008.1.2.1.99"), 32)
          .acceptable);
  EXPECT_FALSE(CheckDicomNesting(deep, 32).acceptable) << "no preamble: still walked";
  EXPECT_FALSE(CheckDicomNesting(Nested(100, Style::kImplicitUndefined), 32).acceptable);
}

TEST(DicomNesting, EncapsulatedPixelDataIsNotASequence) {
  std::string fragments = Tag(0xFFFE, 0xE000) + U32(0) + Tag(0xFFFE, 0xE000) + U32(4) + "\xff\xd8\xff\xd9" +
                          Tag(0xFFFE, 0xE0DD) + U32(0);
  std::string dataset =
      Short(0x0010, 0x0020, "LO", "P1") + Tag(0x7FE0, 0x0010) + "OB" + U16(0) + U32(0xFFFFFFFF) + fragments;
  const NestingCheck check = CheckDicomNesting(Part10(dataset, "1.2.840.10008.1.2.4.50"), 32);
  EXPECT_TRUE(check.acceptable);
  EXPECT_EQ(0, check.deepest);
}

TEST(DicomNesting, BrokenFramingIsLeftToOrthanc) {
  std::string truncated = Part10(Nested(10, Style::kExplicitDefined), kExplicit);
  truncated.resize(truncated.size() / 2);
  EXPECT_TRUE(CheckDicomNesting(truncated, 32).acceptable);
  EXPECT_TRUE(CheckDicomNesting("not a DICOM file at all", 32).acceptable);
  EXPECT_TRUE(CheckDicomNesting("", 32).acceptable);
}

TEST(ZipReader, ReadsStoredEntriesBackAndRefusesDamage) {
  ZipWriter writer;
  writer.Add("a/one.dcm", "first");
  writer.Add("two.dcm", std::string(1000, 'x'));
  const std::string zip = writer.Finish();
  ASSERT_TRUE(ZipReader::LooksLikeZip(zip));
  ZipReader reader;
  std::string error;
  ASSERT_TRUE(reader.Open(zip, error)) << error;
  ASSERT_EQ(2u, reader.Entries().size());
  std::string content;
  ASSERT_TRUE(reader.Read(reader.Entries()[1], 1 << 20, content, error)) << error;
  EXPECT_EQ(std::string(1000, 'x'), content);
  EXPECT_FALSE(reader.Read(reader.Entries()[1], 10, content, error)) << "larger than allowed";
  ZipReader broken;
  EXPECT_FALSE(broken.Open(zip.substr(0, zip.size() - 30), error));
}

TEST(BodyGuard, RefusesDeepJsonAndNestedDicomAlsoInsideZips) {
  const std::string deepJson = std::string(3000, '[') + std::string(3000, ']');
  EXPECT_NE("", RefuseJsonBody(deepJson, 1 << 20));
  EXPECT_EQ("", RefuseJsonBody(R"({"Level":"Study","Query":{"PatientName":"[[[[["}})", 1 << 20))
      << "brackets inside strings do not nest";
  EXPECT_NE("", RefuseJsonBody(std::string(2 << 20, ' '), 1 << 20)) << "too large";

  const std::string deepFile = Part10(Nested(200, Style::kExplicitUndefined), kExplicit);
  EXPECT_NE("", RefuseDicomUpload(deepFile));
  EXPECT_EQ("", RefuseDicomUpload(Part10(Nested(8, Style::kExplicitUndefined), kExplicit)));
  ZipWriter writer;
  writer.Add("ok.dcm", Part10(Nested(2, Style::kExplicitUndefined), kExplicit));
  writer.Add("CD/IMAGES/DEEP", deepFile);
  const std::string refusal = RefuseDicomUpload(writer.Finish());
  EXPECT_NE(std::string::npos, refusal.find("CD/IMAGES/DEEP")) << refusal;
}

TEST(BodyGuard, KnowsWhichOfOrthancsRoutesItGuards) {
  ASSERT_NE(nullptr, FindGuardedRoute("/tools/find"));
  ASSERT_NE(nullptr, FindGuardedRoute("/studies/abc/modify"));
  ASSERT_NE(nullptr, FindGuardedRoute("/modalities/CT1/store"));
  ASSERT_NE(nullptr, FindGuardedRoute("/queries/q1/answers/0/retrieve"));
  EXPECT_EQ(nullptr, FindGuardedRoute("/instances")) << "uploads are checked as Orthanc receives them";
  EXPECT_EQ(nullptr, FindGuardedRoute("/studies/abc/archive")) << "left to Orthanc for streaming";
  EXPECT_EQ(nullptr, FindGuardedRoute("/modalities/CT1"));

  HttpRequest archive;
  archive.method = "POST";
  archive.path = "/studies/abc/archive";
  archive.headers["content-length"] = "40";
  EXPECT_FALSE(BodyTooLongForFilter(archive));
  archive.headers["content-length"] = "600";
  EXPECT_TRUE(BodyTooLongForFilter(archive));
  archive.headers.erase("content-length");
  archive.headers["transfer-encoding"] = "chunked";
  EXPECT_TRUE(BodyTooLongForFilter(archive));
  archive.method = "GET";
  EXPECT_FALSE(BodyTooLongForFilter(archive));
}
