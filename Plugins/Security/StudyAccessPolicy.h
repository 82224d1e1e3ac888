#pragma once
// Access to a study, not only to a route. The gate decides which routes a
// role may call; this says which study a resource belongs to and whether an
// identity may see that study. The viewer, the orders and the reports ask it,
// and so does the patient's portal for every image it shows.
//
// The study of a series or an instance is asked of Orthanc once and then
// remembered: a resource never moves to another study (Orthanc's IDs are
// hashes of the DICOM UIDs), so the cache needs no invalidation beyond its
// size bound. A deleted resource's entry is harmless: Orthanc answers 404.
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "Common/Identity.h"
#include "Common/OrthancRest.h"

namespace HospitalBridge {

class StudyAccessPolicy {
 public:
  explicit StudyAccessPolicy(IOrthancRest& orthanc, size_t cacheEntries = 20000)
      : orthanc_(orthanc), capacity_(cacheEntries) {}

  // The Orthanc ID of the study holding /{level}/{id} ("studies" gives `id`
  // back once checked); "" when Orthanc has no such resource. Throws
  // OrthancUnavailable.
  std::string StudyOf(const std::string& level, const std::string& id);

  // Staff see every study here: consent restricts what leaves the hospital,
  // not care (reads are audited). Peers reach studies only through the
  // federation routes, which apply consent; nobody else reaches any.
  static bool StaffMaySee(const Identity& identity);
  // A patient's share link sees exactly its studies.
  static bool LinkMaySee(const std::vector<std::string>& linkStudies, const std::string& studyId);

  size_t CachedEntries();

 private:
  IOrthancRest& orthanc_;
  const size_t capacity_;
  std::mutex mutex_;
  std::list<std::string> order_;  // most recent first
  std::unordered_map<std::string, std::pair<std::string, std::list<std::string>::iterator>> cache_;
};

}  // namespace HospitalBridge
