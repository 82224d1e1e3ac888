#include "Share/PortalMedia.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "Common/Text.h"
#include "Common/Time.h"
#include "Share/ModalityGlossary.h"
#include "Share/ZipWriter.h"

namespace HospitalBridge {

namespace {
bool ValidId(const std::string& id) { return Text::IsIdentifier(id, "-", 1, 64); }

std::string Tag(const Json::Value& resource, const char* name) {
  return resource["MainDicomTags"].get(name, "").asString();
}

long NumberOf(const std::string& text) {
  try {
    return text.empty() ? 0 : std::stol(text);
  } catch (const std::exception&) {
    return 0;
  }
}

struct OrderedInstance {
  std::string id;
  long number = 0;
};

std::vector<OrderedInstance> OrderInstances(const Json::Value& instances) {
  std::vector<OrderedInstance> ordered;
  for (const Json::Value& instance : instances) {
    ordered.push_back(
        OrderedInstance{instance.get("ID", "").asString(), NumberOf(Tag(instance, "InstanceNumber"))});
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const OrderedInstance& a, const OrderedInstance& b) { return a.number < b.number; });
  return ordered;
}

std::vector<Json::Value> OrderSeries(const Json::Value& series) {
  std::vector<Json::Value> ordered(series.begin(), series.end());
  std::stable_sort(ordered.begin(), ordered.end(), [](const Json::Value& a, const Json::Value& b) {
    return NumberOf(Tag(a, "SeriesNumber")) < NumberOf(Tag(b, "SeriesNumber"));
  });
  return ordered;
}

bool HasImages(const std::string& modality) {
  return modality != "DOC" && modality != "SR" && modality != "KO" && modality != "PR";
}

}  // namespace

std::string SafeFileName(const std::string& text, size_t maxLength) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else if ((c == ' ' || c == '.' || c == '^') && !out.empty() && out.back() != ' ') {
      out += ' ';
    }
    if (out.size() >= maxLength) break;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Json::Value PortalMedia::StudySummary(const std::string& studyId, const std::string& hospital,
                                      bool canDownload) {
  Json::Value study;
  Json::Value series;
  if (!ValidId(studyId) || !orthanc_.GetJson("/studies/" + studyId, study) ||
      !orthanc_.GetJson("/studies/" + studyId + "/series", series)) {
    return Json::Value();
  }
  Json::Value summary(Json::objectValue);
  summary["id"] = studyId;
  summary["date"] = Time::DicomDateToIso(Tag(study, "StudyDate"));
  summary["time"] = Time::DicomTimeToIso(Tag(study, "StudyTime"));
  summary["description"] = Tag(study, "StudyDescription");
  summary["hospital"] = hospital;
  summary["modalities"] = Json::Value(Json::arrayValue);
  summary["modality_info"] = Json::Value(Json::arrayValue);
  summary["series"] = Json::Value(Json::arrayValue);
  Json::Int64 images = 0;
  std::vector<std::string> modalities;
  for (const Json::Value& item : OrderSeries(series)) {
    const std::string modality = Tag(item, "Modality");
    // Series without pixels (the signed report as Encapsulated PDF or SR, key
    // objects, presentation states) have no image to show; the report is
    // shown as a report, and they stay in the DICOM download.
    if (!HasImages(modality)) continue;
    const Json::Value& instances = item["Instances"];
    Json::Value entry(Json::objectValue);
    entry["id"] = item.get("ID", "").asString();
    entry["number"] = Tag(item, "SeriesNumber");
    entry["modality"] = modality;
    entry["description"] = Tag(item, "SeriesDescription");
    entry["images"] = static_cast<Json::Int64>(instances.size());
    // Any instance of the series gives a fair thumbnail; ordering them
    // would cost a read per instance on the page everyone opens first.
    entry["preview"] =
        instances.empty() ? "" : "/s/api/instances/" + instances[0].asString() + "/image?size=thumb";
    entry["presets"] = Json::Value(Json::arrayValue);
    for (const std::string& preset : PresetsFor(modality)) entry["presets"].append(preset);
    summary["series"].append(entry);
    images += static_cast<Json::Int64>(instances.size());
    if (!modality.empty() && std::find(modalities.begin(), modalities.end(), modality) == modalities.end()) {
      modalities.push_back(modality);
    }
  }
  for (const std::string& modality : modalities) {
    summary["modalities"].append(modality);
    ModalityWords words = DescribeModality(modality);
    Json::Value info(Json::objectValue);
    info["code"] = modality;
    info["name"] = words.name;
    info["text"] = words.text;
    summary["modality_info"].append(info);
  }
  summary["images"] = images;
  if (canDownload) {
    summary["downloads"]["dicom"] = "/s/api/studies/" + studyId + "/dicom.zip";
    summary["downloads"]["jpeg"] = "/s/api/studies/" + studyId + "/images.zip";
  }
  return summary;
}

Json::Value PortalMedia::SeriesInstances(const std::string& seriesId) {
  Json::Value instances;
  Json::Value answer(Json::objectValue);
  answer["instances"] = Json::Value(Json::arrayValue);
  if (!ValidId(seriesId) || !orthanc_.GetJson("/series/" + seriesId + "/instances", instances)) return answer;
  for (const OrderedInstance& instance : OrderInstances(instances)) {
    Json::Value entry(Json::objectValue);
    entry["id"] = instance.id;
    entry["number"] = static_cast<Json::Int64>(instance.number);
    entry["image"] = "/s/api/instances/" + instance.id + "/image";
    answer["instances"].append(entry);
  }
  return answer;
}

bool PortalMedia::RenderJpeg(const std::string& instanceId, const std::string& size,
                             const std::string& preset, std::string& jpeg) {
  if (!ValidId(instanceId)) return false;
  WindowPreset window;
  if (!FindPreset(preset, window)) {
    // Orthanc's preview applies the file's own window, or one from the
    // pixel range when the file has none; /rendered without a window
    // leaves such a CT black.
    return orthanc_.GetAs("/instances/" + instanceId + "/preview", "image/jpeg", jpeg);
  }
  std::string uri =
      "/instances/" + instanceId + "/rendered?quality=" + std::string(size == "thumb" ? "80" : "90");
  if (size == "thumb") uri += "&width=256&height=256";
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "&window-center=%g&window-width=%g", window.center, window.width);
  uri += buffer;
  return orthanc_.GetAs(uri, "image/jpeg", jpeg);
}

bool PortalMedia::JpegZip(const std::string& studyId, const ZipWriter::Sink& sink) {
  Json::Value series;
  if (!ValidId(studyId) || !orthanc_.GetJson("/studies/" + studyId + "/series", series)) return false;
  ZipWriter writer(sink);
  for (const Json::Value& item : OrderSeries(series)) {
    Json::Value instances;
    const std::string seriesId = item.get("ID", "").asString();
    if (!orthanc_.GetJson("/series/" + seriesId + "/instances", instances)) continue;
    std::string folder = SafeFileName(Tag(item, "SeriesNumber") + " " + Tag(item, "Modality") + " " +
                                      Tag(item, "SeriesDescription"));
    if (folder.empty()) folder = "series";
    folder += " " + seriesId.substr(0, 8);
    int index = 0;
    for (const OrderedInstance& instance : OrderInstances(instances)) {
      std::string jpeg;
      // Images Orthanc cannot render (reports, raw data) are left out.
      try {
        if (!RenderJpeg(instance.id, "full", "default", jpeg)) continue;
      } catch (const OrthancRejected&) {
        continue;
      } catch (const OrthancUnavailable&) {
        continue;
      }
      char name[32];
      std::snprintf(name, sizeof(name), "/%04d.jpg", ++index);
      writer.Add(folder + name, jpeg);
    }
  }
  writer.Finish();
  return true;
}

}  // namespace HospitalBridge
