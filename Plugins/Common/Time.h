#pragma once
// Time as the plugin stores it: integer seconds since the Unix epoch in UTC,
// shown as ISO 8601 with a trailing Z.
#include <cstdint>
#include <string>

namespace HospitalBridge {
namespace Time {

int64_t NowSeconds();
int64_t NowMilliseconds();                                   // monotonic, for durations and debouncing only
std::string FormatIsoUtc(int64_t seconds);                   // "2026-11-22T11:00:00Z"; "" for 0
std::string FormatIsoUtcMilliseconds(int64_t milliseconds);  // "2026-11-22T11:00:00.123Z"
int64_t WallClockMilliseconds();
// Orthanc's timestamps ("20261122T110000", UTC in 1.10). Returns 0 if malformed.
int64_t ParseOrthancTimestamp(const std::string& text);

// DICOM DA "20240115" → "2024-01-15"; anything else → "".
std::string DicomDateToIso(const std::string& da);
// DICOM TM "103000.123" or "1030" → "10:30:00"; anything else → "".
std::string DicomTimeToIso(const std::string& tm);
// Accepts "2024-01-15" or "20240115" with a real calendar date; gives "20240115".
bool ParseDateParameter(const std::string& text, std::string& da);
// The Unix time of 00:00 on DICOM date `da` in the server's time zone (the
// reception's "today").
int64_t LocalMidnight(const std::string& da);
// "22 December 2026" (English month names), in UTC.
std::string FormatLongDate(int64_t seconds);
// "20261222" (DICOM DA) or "2026-12-22" → "22 December 2026"; "" when
// malformed.
std::string DateToLong(const std::string& date);

}  // namespace Time
}  // namespace HospitalBridge
