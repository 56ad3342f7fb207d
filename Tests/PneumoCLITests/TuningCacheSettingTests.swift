import Foundation
import Testing
@testable import pneumo

/// Where the command-line tool keeps its tuning cache: `PNEUMO_TUNING_CACHE` (a directory, or off), else the XDG cache
/// directory, else `~/.cache`.
@Suite struct TuningCacheSettingTests {
    @Test func theVariableNamesTheDirectoryOrTurnsTheCacheOff() {
        #expect(TuningCacheSetting.directory(["PNEUMO_TUNING_CACHE": "/srv/tuning"])?.path == "/srv/tuning")
        for off in ["off", "OFF", "0", "none", "false", ""] {
            #expect(TuningCacheSetting.directory(["PNEUMO_TUNING_CACHE": off]) == nil, "\(off)")
        }
    }

    @Test func withoutTheVariableTheCacheGoesUnderTheUsersCacheDirectory() {
        #expect(TuningCacheSetting.directory(["XDG_CACHE_HOME": "/var/cache/u"])?.path == "/var/cache/u/pneumo/tuning")
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        #expect(TuningCacheSetting.directory([:])?.path == "\(home)/.cache/pneumo/tuning")
        #expect(TuningCacheSetting.directory(["XDG_CACHE_HOME": ""])?.path == "\(home)/.cache/pneumo/tuning")
    }
}
