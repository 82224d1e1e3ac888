#pragma once
// Who a request comes from. Roles are fixed by the design; what each may do
// is in PermissionTable (Orthanc's routes) and in each route's declaration
// (HospitalBridge's own routes).
#include <cstdint>
#include <string>

namespace HospitalBridge {

enum class Role : uint8_t { kAdmin, kRadiologist, kTechnician, kReception, kPeer };

// A set of roles, as a bit mask.
class RoleSet {
 public:
  constexpr RoleSet() = default;
  constexpr RoleSet(std::initializer_list<Role> roles) {
    for (Role role : roles) bits_ |= Bit(role);
  }
  constexpr bool Contains(Role role) const { return (bits_ & Bit(role)) != 0; }
  constexpr bool Empty() const { return bits_ == 0; }
  static constexpr RoleSet Staff() {
    return RoleSet{Role::kAdmin, Role::kRadiologist, Role::kTechnician, Role::kReception};
  }

 private:
  static constexpr uint8_t Bit(Role role) { return static_cast<uint8_t>(1u << static_cast<uint8_t>(role)); }
  uint8_t bits_ = 0;
};

const char* RoleName(Role role);
bool ParseRole(const std::string& name, Role& role);

struct Identity {
  bool authenticated = false;
  int64_t userId = 0;
  std::string username;
  Role role = Role::kReception;
  bool viaSession = false;  // cookie (browser) rather than HTTP Basic

  bool Has(RoleSet roles) const { return authenticated && roles.Contains(role); }
};

}  // namespace HospitalBridge
