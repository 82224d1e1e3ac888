#pragma once
// The printable report as a PDF, drawn with cairo and laid out with pango
// (Unicode text, line breaking, fonts through fontconfig). Every value is
// set as plain text, never as pango markup: a finding that reads
// "<b>mass</b>" is printed as those characters.
//
// Rendering runs on one thread of its own (PdfRenderer): fontconfig and the
// font map are set up once there, never on Orthanc's threads, and requests
// wait for their turn.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace HospitalBridge {

// What the PDF shows, every string ready to print.
struct ReportDocument {
  std::string hospitalName;
  std::string hospitalLines;  // address, phone, e-mail on one line
  std::string title = "Radiology report";
  std::string status;                                        // "FINAL", "PRELIMINARY", "AMENDED"
  std::vector<std::pair<std::string, std::string>> patient;  // label, value
  std::vector<std::pair<std::string, std::string>> study;
  struct Section {
    std::string label;
    std::string text;
  };
  std::vector<Section> sections;
  std::vector<std::string> notes;  // critical finding told to ..., replaces version ...
  std::string signature;           // "Signed by dr.house (radiologist) on 2026-11-27 10:15 UTC"
  std::string hash;                // SHA-256 hex of the signed content
  std::string reference;           // "Report 12, version 2 · template Chest X-ray v1"
  std::string paper = "A4";
  int maxPages = 20;
};

// The PDF could not be made: the sign-off that needed it is refused.
class ReportRenderError : public std::runtime_error {
 public:
  explicit ReportRenderError(const std::string& message) : std::runtime_error(message) {}
};

class IReportRenderer {
 public:
  virtual ~IReportRenderer() = default;
  // The PDF's bytes; throws ReportRenderError.
  virtual std::string Render(const ReportDocument& document) = 0;
};

// Draws on the caller's thread (the renderer's own thread, or a benchmark).
std::string RenderReportPdf(const ReportDocument& document);

// Renders on one thread of its own; Render() waits for the result.
class PdfRenderer : public IReportRenderer {
 public:
  PdfRenderer();
  ~PdfRenderer() override;
  PdfRenderer(const PdfRenderer&) = delete;
  PdfRenderer& operator=(const PdfRenderer&) = delete;

  std::string Render(const ReportDocument& document) override;
  // Sets fontconfig up ahead of the first sign-off (in the background).
  void WarmUp();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace HospitalBridge
