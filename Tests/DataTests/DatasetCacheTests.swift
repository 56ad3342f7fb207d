import Foundation
import Testing
@testable import Data
import TestSupport

/// Cache, MD5 and download logic with local files and `file://` URLs: no test touches the network.
struct DatasetCacheTests {
    @Test func md5MatchesRFC1321Vectors() throws {
        #expect(MD5.hex(of: []) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5.hex(of: Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.txt")
        try Foundation.Data("message digest".utf8).write(to: file)
        #expect(try MD5.hex(ofFile: file) == "f96b697d7cb7938d525a2f31aaf161d0")
    }

    @Test func publishedFiles() throws {
        #expect(try PneumoniaMNIST.file(size: 28).url.absoluteString
                == "https://zenodo.org/records/10519652/files/pneumoniamnist.npz?download=1")
        #expect(try PneumoniaMNIST.file(size: 224).name == "pneumoniamnist_224.npz")
        #expect(try PneumoniaMNIST.file(size: 64).md5 == "8f4eceb4ccffa70c672198ea285246c6")
        let error = #expect(throws: DataError.self) { try PneumoniaMNIST.file(size: 32) }
        #expect(error?.kind == .invalidArgument)
    }

    @Test func directoryPrecedence() {
        let env = ["HOME": "/home/u", "PNEUMO_DATA_DIR": "/data/env"]
        #expect(DatasetCache.resolve(flag: "/data/flag", environment: env).directory.path == "/data/flag")
        #expect(DatasetCache.resolve(flag: nil, environment: env).directory.path == "/data/env")
        #expect(DatasetCache.resolve(flag: nil, environment: ["HOME": "/home/u"]).directory.path == "/home/u/.medmnist")
    }

    /// A source file to "download" and the remote description of it.
    private func source(in dir: URL, bytes: [UInt8] = Array("pretend npz".utf8), md5: String? = nil) throws -> RemoteFile {
        let url = dir.appendingPathComponent("origin.bin")
        try Foundation.Data(bytes).write(to: url)
        return RemoteFile(name: "pneumoniamnist.npz", url: url, md5: md5 ?? MD5.hex(of: bytes))
    }

    @Test func downloadsVerifiesAndRenames() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let remote = try source(in: dir)
        let cache = DatasetCache(directory: dir.appendingPathComponent("cache"))
        #expect(try cache.cached(remote) == nil)
        let path = try cache.fetch(remote)
        #expect(path == cache.path(for: remote))
        #expect(try FileIO.readBytes(path) == Array("pretend npz".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.directory.path) == ["pneumoniamnist.npz"])
        // A second fetch uses the verified copy and does not download.
        #expect(try cache.fetch(remote, using: FailingDownloader()) == path)
    }

    @Test func wrongChecksumLeavesNothingThatLooksComplete() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let remote = try source(in: dir, md5: "00000000000000000000000000000000")
        let cache = DatasetCache(directory: dir.appendingPathComponent("cache"))
        let error = #expect(throws: DataError.self) { try cache.fetch(remote) }
        #expect(error?.kind == .checksum)
        #expect(error?.message.contains("expected 00000000000000000000000000000000") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.directory.path).isEmpty)
    }

    @Test func failedDownloadSaysWhereToPutTheFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let remote = try PneumoniaMNIST.file(size: 128)
        let cache = DatasetCache(directory: dir)
        let error = #expect(throws: DataError.self) { try cache.fetch(remote, using: FailingDownloader()) }
        #expect(error?.kind == .download)
        #expect(error?.description.contains(remote.url.absoluteString) == true)
        #expect(error?.description.contains("05b46931834c231683c68f40c47b2971") == true)
        #expect(error?.description.contains(dir.appendingPathComponent("pneumoniamnist_128.npz").path) == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func interruptedDownloadLeavesNoPartialFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = DatasetCache(directory: dir)
        let remote = RemoteFile(name: "x.npz", url: URL(string: "https://example.invalid/x.npz")!, md5: MD5.hex(of: []))
        #expect(throws: DataError.self) { try cache.fetch(remote, using: HalfDownloader()) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func damagedCachedFileIsReportedNotUsed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let remote = try source(in: dir)
        let cache = DatasetCache(directory: dir)
        try Foundation.Data("damaged".utf8).write(to: cache.path(for: remote))
        let error = #expect(throws: DataError.self) { try cache.fetch(remote) }
        #expect(error?.kind == .checksum)
        #expect(error?.file == cache.path(for: remote).path)
    }

    @Test func missingFileURLIsADownloadError() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let remote = RemoteFile(name: "y.npz", url: dir.appendingPathComponent("absent.npz"), md5: MD5.hex(of: []))
        let error = #expect(throws: DataError.self) { try DatasetCache(directory: dir).fetch(remote) }
        #expect(error?.kind == .download)
    }
}

/// Stands in for an offline machine.
struct FailingDownloader: Downloader {
    func download(_ url: URL, to destination: URL) throws {
        throw DataError(.download, file: url.absoluteString, "network is unreachable")
    }
}

/// Writes part of a file, then fails, like a dropped connection.
struct HalfDownloader: Downloader {
    func download(_ url: URL, to destination: URL) throws {
        try Foundation.Data("half".utf8).write(to: destination)
        throw DataError(.download, file: url.absoluteString, "connection reset")
    }
}

/// URLSession's error path without the network: a loopback port nothing listens on refuses at once.
@Test func urlSessionDownloaderReportsRefusedConnection() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = URL(string: "http://127.0.0.1:9/pneumoniamnist.npz")!
    let error = #expect(throws: DataError.self) {
        try URLSessionDownloader(timeout: 5).download(url, to: dir.appendingPathComponent("x"))
    }
    #expect(error?.kind == .download)
    #expect(error?.file == url.absoluteString)
}
