#pragma once
// Small, audited building blocks over OpenSSL: random secrets, digests,
// encodings and comparisons that do not leak timing.
#include <cstdint>
#include <string>

namespace HospitalBridge {
namespace Crypto {

// Bytes from OpenSSL's CSPRNG; throws when the generator fails.
std::string RandomBytes(size_t count);
// A 128-bit secret as URL-safe base64 without padding (22 characters).
std::string NewToken();

std::string Sha256(const std::string& data);  // raw 32 bytes
std::string Sha256Hex(const std::string& data);
std::string HmacSha256(const std::string& key, const std::string& data);  // raw 32 bytes
std::string Pbkdf2Sha256(const std::string& password, const std::string& salt, uint32_t iterations,
                         size_t length);

std::string ToHex(const std::string& bytes);
std::string Base64Encode(const std::string& bytes);
bool Base64Decode(const std::string& text, std::string& bytes);  // standard alphabet, padding optional
std::string Base64UrlEncode(const std::string& bytes);

// AES-256-GCM with a random 96-bit nonce: nonce | ciphertext | 16-byte tag.
// `key` is 32 bytes; `context` is authenticated, not stored.
std::string AesGcmSeal(const std::string& key, const std::string& plaintext, const std::string& context);
// False when the blob was altered, or sealed with another key or context.
bool AesGcmOpen(const std::string& key, const std::string& sealed, const std::string& context,
                std::string& plaintext);
// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace Crypto
}  // namespace HospitalBridge
