#include "Registry/SiteStore.h"

#include "Common/Errors.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kColumns[] = "id, name, address, phone, email, orthanc_peer, created_at, updated_at";

Site Read(Statement& row) {
  return Site{row.ColumnText(0), row.ColumnText(1), row.ColumnText(2), row.ColumnText(3),
              row.ColumnText(4), row.ColumnText(5), row.ColumnInt(6),  row.ColumnInt(7)};
}
}  // namespace

Json::Value Site::ToJson(bool local) const {
  Json::Value json(Json::objectValue);
  json["id"] = id;
  json["name"] = name;
  json["address"] = address;
  json["phone"] = phone;
  json["email"] = email;
  json["orthanc_peer"] = orthancPeer;
  json["local"] = local;
  json["created_at"] = Time::FormatIsoUtc(createdAt);
  return json;
}

void SiteStore::Insert(const Site& site) {
  Transaction transaction(database_, TransactionMode::kWrite);
  if (Find(transaction, site.id)) throw DomainError::Conflict("A site with this id already exists", site.id);
  int64_t now = Time::NowSeconds();
  Statement insert(
      transaction,
      "INSERT INTO sites (id, name, address, phone, email, orthanc_peer, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(1, site.id)
      .Bind(2, site.name)
      .Bind(3, site.address)
      .Bind(4, site.phone)
      .Bind(5, site.email)
      .Bind(6, site.orthancPeer)
      .Bind(7, now)
      .Bind(8, now)
      .Run();
  transaction.Commit();
}

void SiteStore::Update(const Site& site) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(
      transaction,
      "UPDATE sites SET name = ?, address = ?, phone = ?, email = ?, orthanc_peer = ?, updated_at = ? "
      "WHERE id = ?");
  update.Bind(1, site.name)
      .Bind(2, site.address)
      .Bind(3, site.phone)
      .Bind(4, site.email)
      .Bind(5, site.orthancPeer)
      .Bind(6, Time::NowSeconds())
      .Bind(7, site.id)
      .Run();
  transaction.Commit();
}

bool SiteStore::Remove(const std::string& id) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM sites WHERE id = ?");
  remove.Bind(1, id).Run();
  const bool removed = transaction.Changes() > 0;
  transaction.Commit();
  return removed;
}

std::optional<Site> SiteStore::Find(Transaction& transaction, const std::string& id) {
  Statement select(transaction, std::string("SELECT ") + kColumns + " FROM sites WHERE id = ?");
  select.Bind(1, id);
  if (!select.Step()) return std::nullopt;
  return Read(select);
}

std::optional<Site> SiteStore::Find(const std::string& id) {
  return InRead(database_, [&](Transaction& t) { return Find(t, id); });
}

std::vector<Site> SiteStore::List() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   std::string("SELECT ") + kColumns + " FROM sites ORDER BY name COLLATE NOCASE, id");
  std::vector<Site> sites;
  while (select.Step()) sites.push_back(Read(select));
  return sites;
}

}  // namespace HospitalBridge
