#include "Common/Time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace HospitalBridge {
namespace Time {
namespace {
bool AllDigits(const std::string& s, size_t from, size_t count) {
  if (s.size() < from + count) return false;
  for (size_t i = from; i < from + count; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int ToInt(const std::string& s, size_t from, size_t count) { return std::stoi(s.substr(from, count)); }

bool ValidCalendarDate(int year, int month, int day) {
  if (year < 1800 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max = kDays[month - 1] + ((month == 2 && leap) ? 1 : 0);
  return day <= max;
}
}  // namespace

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t NowMilliseconds() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FormatIsoUtc(int64_t seconds) {
  if (seconds <= 0) return "";
  time_t t = static_cast<time_t>(seconds);
  struct tm parts {};
  gmtime_r(&t, &parts);
  char buffer[32];
  strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buffer;
}

std::string FormatIsoUtcMilliseconds(int64_t milliseconds) {
  std::string seconds = FormatIsoUtc(milliseconds / 1000);
  if (seconds.empty()) return "";
  char fraction[8];
  snprintf(fraction, sizeof(fraction), ".%03dZ", static_cast<int>(milliseconds % 1000));
  return seconds.substr(0, seconds.size() - 1) + fraction;
}

int64_t WallClockMilliseconds() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ParseOrthancTimestamp(const std::string& text) {
  // "YYYYMMDDTHHMMSS", optionally followed by fractions.
  if (text.size() < 15 || !AllDigits(text, 0, 8) || text[8] != 'T' || !AllDigits(text, 9, 6)) return 0;
  struct tm parts {};
  parts.tm_year = ToInt(text, 0, 4) - 1900;
  parts.tm_mon = ToInt(text, 4, 2) - 1;
  parts.tm_mday = ToInt(text, 6, 2);
  parts.tm_hour = ToInt(text, 9, 2);
  parts.tm_min = ToInt(text, 11, 2);
  parts.tm_sec = ToInt(text, 13, 2);
  return static_cast<int64_t>(timegm(&parts));
}

std::string DicomDateToIso(const std::string& da) {
  if (da.size() != 8 || !AllDigits(da, 0, 8)) return "";
  return da.substr(0, 4) + "-" + da.substr(4, 2) + "-" + da.substr(6, 2);
}

std::string DicomTimeToIso(const std::string& tm) {
  if (tm.size() < 4 || !AllDigits(tm, 0, 4)) return "";
  std::string seconds = AllDigits(tm, 4, 2) ? tm.substr(4, 2) : "00";
  return tm.substr(0, 2) + ":" + tm.substr(2, 2) + ":" + seconds;
}

bool ParseDateParameter(const std::string& text, std::string& da) {
  std::string digits;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-' && AllDigits(text, 0, 4) &&
      AllDigits(text, 5, 2) && AllDigits(text, 8, 2)) {
    digits = text.substr(0, 4) + text.substr(5, 2) + text.substr(8, 2);
  } else if (text.size() == 8 && AllDigits(text, 0, 8)) {
    digits = text;
  } else {
    return false;
  }
  if (!ValidCalendarDate(ToInt(digits, 0, 4), ToInt(digits, 4, 2), ToInt(digits, 6, 2))) return false;
  da = digits;
  return true;
}

int64_t LocalMidnight(const std::string& da) {
  if (da.size() != 8 || !AllDigits(da, 0, 8)) return 0;
  struct tm local {};
  local.tm_year = ToInt(da, 0, 4) - 1900;
  local.tm_mon = ToInt(da, 4, 2) - 1;
  local.tm_mday = ToInt(da, 6, 2);
  local.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&local));
}

namespace {
const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
}  // namespace

std::string FormatLongDate(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  struct tm utc {};
  gmtime_r(&t, &utc);
  return std::to_string(utc.tm_mday) + " " + kMonths[utc.tm_mon] + " " + std::to_string(utc.tm_year + 1900);
}

std::string DateToLong(const std::string& date) {
  std::string da;
  if (!ParseDateParameter(date, da)) return "";
  const int month = ToInt(da, 4, 2);
  return std::to_string(ToInt(da, 6, 2)) + " " + kMonths[month - 1] + " " + da.substr(0, 4);
}

}  // namespace Time
}  // namespace HospitalBridge
