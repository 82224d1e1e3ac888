#include "Common/Crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace HospitalBridge {
namespace Crypto {

std::string RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(&bytes[0]), static_cast<int>(count)) != 1) {
    throw std::runtime_error("the system's random generator failed");
  }
  return bytes;
}

std::string NewToken() { return Base64UrlEncode(RandomBytes(16)); }

std::string Sha256(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

std::string Sha256Hex(const std::string& data) { return ToHex(Sha256(data)); }

std::string HmacSha256(const std::string& key, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Pbkdf2Sha256(const std::string& password, const std::string& salt, uint32_t iterations,
                         size_t length) {
  std::string key(length, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), EVP_sha256(), static_cast<int>(length),
                        reinterpret_cast<unsigned char*>(&key[0])) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return key;
}

std::string ToHex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 0x0f]);
  }
  return hex;
}

namespace {
const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Encode(const std::string& bytes, bool url) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(kBase64[(n >> 6) & 63]);
    out.push_back(kBase64[n & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    if (rest == 2) out.push_back(kBase64[(n >> 6) & 63]);
    if (!url) out.append(rest == 1 ? "==" : "=");
  }
  if (url) {
    for (char& c : out) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
  }
  return out;
}
}  // namespace

std::string Base64Encode(const std::string& bytes) { return Encode(bytes, false); }
std::string Base64UrlEncode(const std::string& bytes) { return Encode(bytes, true); }

bool Base64Decode(const std::string& text, std::string& bytes) {
  bytes.clear();
  uint32_t buffer = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '+') {
      value = 62;
    } else if (c == '/') {
      value = 63;
    } else if (c == '=') {
      padding++;
      continue;
    } else {
      return false;
    }
    if (padding > 0) return false;  // data after padding
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return padding <= 2;
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

struct CipherContext {
  EVP_CIPHER_CTX* handle = EVP_CIPHER_CTX_new();
  ~CipherContext() { EVP_CIPHER_CTX_free(handle); }
  CipherContext() = default;
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
};

const unsigned char* Bytes(const std::string& text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}
}  // namespace

std::string AesGcmSeal(const std::string& key, const std::string& plaintext, const std::string& context) {
  if (key.size() != 32) throw std::invalid_argument("AES-256-GCM needs a 32-byte key");
  const std::string nonce = RandomBytes(kNonceBytes);
  std::string out = nonce + std::string(plaintext.size() + kTagBytes, '\0');
  unsigned char* cipher = reinterpret_cast<unsigned char*>(&out[kNonceBytes]);
  CipherContext ctx;
  int length = 0;
  if (ctx.handle == nullptr ||
      EVP_EncryptInit_ex(ctx.handle, EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.handle, nullptr, &length, Bytes(context), static_cast<int>(context.size())) !=
          1 ||
      EVP_EncryptUpdate(ctx.handle, cipher, &length, Bytes(plaintext), static_cast<int>(plaintext.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.handle, cipher + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.handle, EVP_CTRL_GCM_GET_TAG, kTagBytes, cipher + plaintext.size()) != 1) {
    throw std::runtime_error("AES-GCM encryption failed");
  }
  return out;
}

bool AesGcmOpen(const std::string& key, const std::string& sealed, const std::string& context,
                std::string& plaintext) {
  if (key.size() != 32 || sealed.size() < static_cast<size_t>(kNonceBytes + kTagBytes)) return false;
  const size_t size = sealed.size() - kNonceBytes - kTagBytes;
  std::string out(size, '\0');
  std::string tag = sealed.substr(kNonceBytes + size);
  CipherContext ctx;
  int length = 0;
  unsigned char* plain = reinterpret_cast<unsigned char*>(&out[0]);
  if (ctx.handle == nullptr ||
      EVP_DecryptInit_ex(ctx.handle, EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(sealed)) != 1 ||
      EVP_DecryptUpdate(ctx.handle, nullptr, &length, Bytes(context), static_cast<int>(context.size())) !=
          1 ||
      EVP_DecryptUpdate(ctx.handle, plain, &length, Bytes(sealed) + kNonceBytes, static_cast<int>(size)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.handle, EVP_CTRL_GCM_SET_TAG, kTagBytes, &tag[0]) != 1 ||
      EVP_DecryptFinal_ex(ctx.handle, plain + length, &length) != 1) {
    return false;
  }
  plaintext = std::move(out);
  return true;
}

}  // namespace Crypto
}  // namespace HospitalBridge
