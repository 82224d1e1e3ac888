#include "Common/Identity.h"

namespace HospitalBridge {
namespace {
struct RoleEntry {
  Role role;
  const char* name;
};
const RoleEntry kRoles[] = {{Role::kAdmin, "admin"},
                            {Role::kRadiologist, "radiologist"},
                            {Role::kTechnician, "technician"},
                            {Role::kReception, "reception"},
                            {Role::kPeer, "peer"}};
}  // namespace

const char* RoleName(Role role) {
  for (const RoleEntry& entry : kRoles) {
    if (entry.role == role) return entry.name;
  }
  return "unknown";
}

bool ParseRole(const std::string& name, Role& role) {
  for (const RoleEntry& entry : kRoles) {
    if (name == entry.name) {
      role = entry.role;
      return true;
    }
  }
  return false;
}

}  // namespace HospitalBridge
