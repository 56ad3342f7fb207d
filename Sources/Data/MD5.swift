import Crypto
import Foundation

/// MD5 of files, streamed in 4 MiB pieces so that hashing the 224-pixel archive does not need it in
/// memory. MD5 is what MedMNIST publishes; it guards against damaged downloads, not against attackers.
public enum MD5 {
    public static func hex(of bytes: [UInt8]) -> String {
        hexString(Insecure.MD5.hash(data: bytes))
    }

    public static func hex(ofFile url: URL) throws -> String {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw DataError(.io, file: url.path, "cannot open to verify its MD5: \(FileIO.reason(error))")
        }
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        while true {
            let chunk: Foundation.Data?
            do {
                chunk = try handle.read(upToCount: 4 << 20)
            } catch {
                throw DataError(.io, file: url.path, "read failed while verifying its MD5: \(FileIO.reason(error))")
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return hexString(hasher.finalize())
    }

    private static func hexString(_ digest: Insecure.MD5.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
