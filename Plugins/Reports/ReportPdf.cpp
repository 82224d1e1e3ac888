#include "Reports/ReportPdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <future>
#include <memory>
#include <mutex>

#include "Common/Text.h"

namespace HospitalBridge {
namespace {

const char kSans[] = "DejaVu Sans";
const char kMono[] = "DejaVu Sans Mono";

cairo_status_t AppendToString(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct FontDeleter {
  void operator()(PangoFontDescription* font) const { pango_font_description_free(font); }
};
using Font = std::unique_ptr<PangoFontDescription, FontDeleter>;

// One font map for the life of the process (fontconfig is read once), used by
// one rendering at a time: pango's font maps are not thread-safe, and the
// per-thread default map would read fontconfig again on every new thread.
std::mutex& FontMapMutex() {
  static std::mutex mutex;
  return mutex;
}
PangoFontMap* FontMap() {
  static PangoFontMap* map = pango_cairo_font_map_new();
  return map;
}

// A layout on `cr` through the shared font map, without hinting (both passes
// measure alike).
PangoLayout* NewLayout(cairo_t* cr) {
  PangoContext* context = pango_font_map_create_context(FontMap());
  pango_cairo_update_context(cr, context);
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options(context, options);
  cairo_font_options_destroy(options);
  PangoLayout* layout = pango_layout_new(context);
  g_object_unref(context);
  pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
  return layout;
}

Font MakeFont(const char* family, double size, bool bold) {
  Font font(pango_font_description_new());
  pango_font_description_set_family(font.get(), family);
  pango_font_description_set_absolute_size(font.get(), size * PANGO_SCALE);
  pango_font_description_set_weight(font.get(), bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  return font;
}

// One pass over the document: lays it out page by page on `cr`. With
// `totalPages` 0 it only counts (the drawing goes to a PDF that is thrown
// away, so both passes break lines and pages alike).
class Writer {
 public:
  Writer(cairo_t* cr, const ReportDocument& document, double width, double height, int totalPages)
      : cr_(cr),
        document_(document),
        width_(width),
        height_(height),
        totalPages_(totalPages),
        layout_(NewLayout(cr)),
        lineLayout_(NewLayout(cr)) {}
  ~Writer() {
    g_object_unref(layout_);
    g_object_unref(lineLayout_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  int Write() {
    StartPage();
    FirstPageHeader();
    Table("Patient", document_.patient);
    Table("Study", document_.study);
    Gap(6);
    for (const ReportDocument::Section& section : document_.sections) {
      Paragraph(section.label, MakeFont(kSans, 10.5, true), 0, 2);
      Paragraph(section.text.empty() ? "\u2014" : section.text, MakeFont(kSans, 10, false), 0, 8);
    }
    for (const std::string& note : document_.notes) Paragraph(note, MakeFont(kSans, 9.5, true), 0, 4);
    Gap(8);
    Rule();
    Paragraph(document_.signature, MakeFont(kSans, 10, true), 0, 2);
    Paragraph("Content SHA-256: " + document_.hash, MakeFont(kMono, 7.5, false), 0, 2);
    Paragraph(document_.reference, MakeFont(kSans, 8, false), 0, 0);
    FinishPage();
    return page_;
  }

 private:
  double Left() const { return 50; }
  double Right() const { return width_ - 50; }
  double Bottom() const { return height_ - 60; }
  double ContentWidth() const { return Right() - Left(); }

  void StartPage() {
    page_++;
    y_ = 50;
    if (page_ > 1) {
      Line(document_.hospitalName + " \u00b7 " + document_.title + " (continued)", MakeFont(kSans, 8, false),
           Left(), y_, ContentWidth());
      y_ += 16;
    }
  }

  void FinishPage() {
    // The footer: who, which report, which page.
    const std::string who = document_.patient.empty() ? "" : document_.patient.front().second;
    std::string pages = "Page " + std::to_string(page_);
    if (totalPages_ > 0) pages += " of " + std::to_string(totalPages_);
    cairo_set_source_rgb(cr_, 0.35, 0.35, 0.35);
    Line(who + " \u00b7 " + document_.status + " \u00b7 " + pages, MakeFont(kSans, 7.5, false), Left(),
         height_ - 40, ContentWidth());
    cairo_set_source_rgb(cr_, 0, 0, 0);
    cairo_show_page(cr_);
  }

  void NewPage() {
    FinishPage();
    if (totalPages_ == 0 && page_ + 1 > document_.maxPages) {
      throw ReportRenderError("the report would take more than " + std::to_string(document_.maxPages) +
                              " pages (Reports.Pdf.MaxPages)");
    }
    StartPage();
  }

  // One line of text at (x, y), cut to `width`, and labels beside values: on
  // a layout of their own, since a page break (its footer and header) comes
  // in the middle of a paragraph whose layout is being walked.
  void Line(const std::string& text, const Font& font, double x, double y, double width) {
    pango_layout_set_font_description(lineLayout_, font.get());
    pango_layout_set_width(lineLayout_, static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_ellipsize(lineLayout_, PANGO_ELLIPSIZE_END);
    pango_layout_set_text(lineLayout_, text.c_str(), -1);
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, lineLayout_);
  }

  // Wrapped text, line by line, breaking pages between lines.
  void Paragraph(const std::string& text, const Font& font, double indent, double after) {
    pango_layout_set_font_description(layout_, font.get());
    pango_layout_set_width(layout_, static_cast<int>((ContentWidth() - indent) * PANGO_SCALE));
    pango_layout_set_text(layout_, text.c_str(), -1);
    // Freed however the loop ends: a page too many throws from NewPage().
    const std::unique_ptr<PangoLayoutIter, void (*)(PangoLayoutIter*)> owner(pango_layout_get_iter(layout_),
                                                                             pango_layout_iter_free);
    PangoLayoutIter* iter = owner.get();
    do {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(iter, nullptr, &logical);
      const double lineHeight = static_cast<double>(logical.height) / PANGO_SCALE;
      if (y_ + lineHeight > Bottom()) NewPage();
      const double baseline =
          static_cast<double>(pango_layout_iter_get_baseline(iter) - logical.y) / PANGO_SCALE;
      cairo_move_to(cr_, Left() + indent + static_cast<double>(logical.x) / PANGO_SCALE, y_ + baseline);
      pango_cairo_show_layout_line(cr_, pango_layout_iter_get_line_readonly(iter));
      y_ += lineHeight;
    } while (pango_layout_iter_next_line(iter));
    y_ += after;
  }

  void Gap(double points) { y_ += points; }

  void Rule() {
    if (y_ + 4 > Bottom()) NewPage();
    cairo_set_line_width(cr_, 0.6);
    cairo_move_to(cr_, Left(), y_);
    cairo_line_to(cr_, Right(), y_);
    cairo_stroke(cr_);
    y_ += 6;
  }

  void FirstPageHeader() {
    Paragraph(document_.hospitalName, MakeFont(kSans, 16, true), 0, 1);
    if (!document_.hospitalLines.empty())
      Paragraph(document_.hospitalLines, MakeFont(kSans, 8.5, false), 0, 4);
    Rule();
    Paragraph(document_.title + " \u2014 " + document_.status, MakeFont(kSans, 13, true), 0, 6);
  }

  // Label / value pairs in two columns under a small heading.
  void Table(const std::string& heading, const std::vector<std::pair<std::string, std::string>>& rows) {
    if (rows.empty()) return;
    Paragraph(heading, MakeFont(kSans, 9, true), 0, 1);
    const double labelWidth = 110;
    for (const auto& [label, value] : rows) {
      const double top = y_;
      Paragraph(value.empty() ? "\u2014" : value, MakeFont(kSans, 9.5, false), labelWidth, 0);
      const double bottom = y_;
      if (bottom > top) {  // same page: the label beside the value's first line
        pango_layout_set_font_description(layout_, MakeFont(kSans, 9.5, false).get());
        pango_layout_set_width(layout_, static_cast<int>((labelWidth - 6) * PANGO_SCALE));
        pango_layout_set_text(layout_, label.c_str(), -1);
        cairo_set_source_rgb(cr_, 0.3, 0.3, 0.3);
        cairo_move_to(cr_, Left(), top);
        pango_cairo_show_layout(cr_, layout_);
        cairo_set_source_rgb(cr_, 0, 0, 0);
      }
    }
    y_ += 6;
  }

  cairo_t* cr_;
  const ReportDocument& document_;
  const double width_;
  const double height_;
  const int totalPages_;
  PangoLayout* layout_;      // paragraphs
  PangoLayout* lineLayout_;  // single lines: headers, footers, labels
  int page_ = 0;
  double y_ = 0;
};

std::string Clean(const std::string& text) {
  // Pango wants well-formed UTF-8 without NULs.
  std::string clean = Text::ToValidUtf8(text);
  clean.erase(std::remove(clean.begin(), clean.end(), '\0'), clean.end());
  return clean;
}

ReportDocument Cleaned(const ReportDocument& document) {
  ReportDocument clean = document;
  clean.hospitalName = Clean(document.hospitalName);
  clean.hospitalLines = Clean(document.hospitalLines);
  clean.title = Clean(document.title);
  for (auto& row : clean.patient) row = {Clean(row.first), Clean(row.second)};
  for (auto& row : clean.study) row = {Clean(row.first), Clean(row.second)};
  for (auto& section : clean.sections) section = {Clean(section.label), Clean(section.text)};
  for (auto& note : clean.notes) note = Clean(note);
  clean.signature = Clean(document.signature);
  clean.reference = Clean(document.reference);
  return clean;
}

std::string RenderPass(const ReportDocument& document, int totalPages, int& pages) {
  const bool letter = document.paper == "Letter";
  const double width = letter ? 612 : 595.28;
  const double height = letter ? 792 : 841.89;
  std::string pdf;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(AppendToString, &pdf, width, height);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    const std::string why = cairo_status_to_string(cairo_surface_status(surface));
    cairo_surface_destroy(surface);
    throw ReportRenderError("cairo could not start a PDF: " + why);
  }
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, document.title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, document.hospitalName.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "HospitalBridge");
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, ("SHA-256 " + document.hash).c_str());
  cairo_t* cr = cairo_create(surface);
  try {
    Writer writer(cr, document, width, height, totalPages);
    pages = writer.Write();
  } catch (...) {
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    throw;
  }
  const cairo_status_t drawn = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t finished = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (drawn != CAIRO_STATUS_SUCCESS || finished != CAIRO_STATUS_SUCCESS) {
    throw ReportRenderError(std::string("cairo could not draw the PDF: ") +
                            cairo_status_to_string(drawn != CAIRO_STATUS_SUCCESS ? drawn : finished));
  }
  return pdf;
}

}  // namespace

std::string RenderReportPdf(const ReportDocument& input) {
  const ReportDocument document = Cleaned(input);
  std::lock_guard<std::mutex> lock(FontMapMutex());
  int pages = 0;
  RenderPass(document, 0, pages);  // counts the pages (and refuses too many)
  int drawn = 0;
  std::string pdf = RenderPass(document, pages, drawn);
  if (pdf.size() < 100 || pdf.compare(0, 5, "%PDF-") != 0) throw ReportRenderError("cairo wrote no PDF");
  return pdf;
}

PdfRenderer::PdfRenderer() : thread_([this] { Run(); }) {}

PdfRenderer::~PdfRenderer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PdfRenderer::Run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

std::string PdfRenderer::Render(const ReportDocument& document) {
  auto task =
      std::make_shared<std::packaged_task<std::string()>>([document] { return RenderReportPdf(document); });
  std::future<std::string> result = task->get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw ReportRenderError("the server is stopping");
    tasks_.emplace_back([task] { (*task)(); });
  }
  wake_.notify_one();
  if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    throw ReportRenderError("the PDF took longer than 30 seconds to render");
  }
  try {
    return result.get();
  } catch (const ReportRenderError&) {
    throw;
  } catch (const std::exception& e) {
    throw ReportRenderError(e.what());
  }
}

void PdfRenderer::WarmUp() {
  std::lock_guard<std::mutex> lock(mutex_);
  tasks_.emplace_back([] {
    ReportDocument document;
    document.hospitalName = "HospitalBridge";
    document.status = "FINAL";
    document.sections.push_back({"Findings", "Ready."});
    try {
      RenderReportPdf(document);
    } catch (const std::exception&) {  // the first real report will say why
    }
  });
  wake_.notify_one();
}

}  // namespace HospitalBridge
