#pragma once
// How staff see a share link: its state, patient, studies (with each one's
// date and description as indexed now), options and history, as JSON for
// the reception page and the REST API.
#include <json/json.h>

#include <cstdint>

#include "Index/StudyIndexStore.h"
#include "Share/ShareStore.h"

namespace HospitalBridge {

Json::Value ShareToJson(const Share& share, StudyIndexStore& studies, int64_t now);

}  // namespace HospitalBridge
