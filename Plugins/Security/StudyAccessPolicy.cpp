#include "Security/StudyAccessPolicy.h"

#include <algorithm>

#include "Common/Text.h"

namespace HospitalBridge {

std::string StudyAccessPolicy::StudyOf(const std::string& level, const std::string& id) {
  if (!Text::IsIdentifier(id, "-", 1, 64)) return "";
  const std::string key = level + "/" + id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = cache_.find(key);
    if (found != cache_.end()) {
      order_.splice(order_.begin(), order_, found->second.second);
      return found->second.first;
    }
  }
  std::string study;
  Json::Value answer;
  if (level == "studies") {
    if (orthanc_.GetJson("/studies/" + id, answer)) study = answer.get("ID", "").asString();
  } else if (level == "series" || level == "instances") {
    if (orthanc_.GetJson("/" + level + "/" + id + "/study", answer)) study = answer.get("ID", "").asString();
  }
  if (study.empty()) return "";  // unknown resources are not remembered
  std::lock_guard<std::mutex> lock(mutex_);
  if (cache_.count(key) == 0) {
    order_.push_front(key);
    cache_[key] = {study, order_.begin()};
    if (cache_.size() > capacity_) {
      cache_.erase(order_.back());
      order_.pop_back();
    }
  }
  return study;
}

bool StudyAccessPolicy::StaffMaySee(const Identity& identity) {
  return identity.authenticated && RoleSet::Staff().Contains(identity.role);
}

bool StudyAccessPolicy::LinkMaySee(const std::vector<std::string>& linkStudies, const std::string& studyId) {
  return !studyId.empty() && std::find(linkStudies.begin(), linkStudies.end(), studyId) != linkStudies.end();
}

size_t StudyAccessPolicy::CachedEntries() {
  std::lock_guard<std::mutex> lock(mutex_);
  return cache_.size();
}

}  // namespace HospitalBridge
