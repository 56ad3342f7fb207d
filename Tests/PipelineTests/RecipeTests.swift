import GraphCore
import Foundation
import Testing
@testable import Pipeline
import TestSupport

@Suite("Recipes: parsing and validation")
struct RecipeTests {
    /// Writes `json` to a file and loads it as `pneumo optimize --recipe FILE` does.
    func load(_ json: String) throws -> Recipe {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("recipe.json")
        try Data(json.utf8).write(to: url)
        return try Recipe.load(url.path)
    }

    @Test func distillParses() throws {
        let r = try load("""
            {"name": "kd", "steps": [{"rewrite": "low-rank", "energy": 0.8}],
             "fine_tune": {"epochs": 2, "learning_rate": 1e-4}, "distill": {"temperature": 4, "alpha": 0.7}}
            """)
        #expect(r == Recipe(name: "kd", steps: [Recipe.Step("low-rank", energy: 0.8)],
                            fine_tune: Recipe.FineTune(epochs: 2, learning_rate: 1e-4),
                            distill: Recipe.Distill(temperature: 4, alpha: 0.7)))
    }

    @Test func recipesWithoutDistillStillParse() throws {
        let r = try load(#"{"name": "plain", "steps": [{"rewrite": "fold-batchnorm"}], "fine_tune": {"epochs": 1}}"#)
        #expect(r.distill == nil)
        // and the field is left out when written back, so older readers see the recipe they know
        #expect(!String(decoding: try JSONEncoder().encode(r), as: UTF8.self).contains("distill"))
    }

    @Test(arguments: [(#"{"temperature": 4, "alpha": 1.5}"#, "distill.alpha must be in [0, 1], got 1.5"),
                      (#"{"temperature": 4, "alpha": -0.1}"#, "distill.alpha must be in [0, 1], got -0.1"),
                      (#"{"temperature": 0, "alpha": 0.5}"#, "distill.temperature must be positive, got 0.0"),
                      (#"{"temperature": -2, "alpha": 0.5}"#, "distill.temperature must be positive, got -2.0")])
    func badDistillParametersNameTheField(distill: String, message: String) {
        let json = #"{"name": "kd", "steps": [], "fine_tune": {"epochs": 1}, "distill": "# + distill + "}"
        let error = #expect(throws: EngineError.self) { _ = try load(json) }
        #expect(error?.op == "recipe")
        #expect(error?.message == message)
    }

    @Test(arguments: [#""fine_tune": {"epochs": 0}, "#, ""])
    func distillNeedsFineTuning(fineTune: String) {
        let json = #"{"name": "kd", "steps": [], "# + fineTune + #""distill": {"temperature": 4, "alpha": 0.5}}"#
        let error = #expect(throws: EngineError.self) { _ = try load(json) }
        #expect(error?.message == "distill needs fine_tune with epochs > 0: distillation is how the fine-tuning learns")
    }

    @Test func distillMissingAFieldIsNotARecipe() {
        let error = #expect(throws: EngineError.self) {
            _ = try load(#"{"name": "kd", "steps": [], "fine_tune": {"epochs": 1}, "distill": {"temperature": 4}}"#)
        }
        #expect(error?.message.contains("not a recipe") == true)
        #expect(error?.message.contains("alpha") == true, "\(String(describing: error))")
    }

    @Test func namedRecipesAreValid() throws {
        for (name, recipe) in Recipe.named {
            #expect(recipe.name == name)
            try recipe.validate()
        }
        let kd = try #require(Recipe.named["compact-distill"])
        #expect(kd.distill == Recipe.Distill(temperature: 4, alpha: 0.7))
        #expect(kd.steps == Recipe.named["compact"]!.steps && kd.fine_tune == Recipe.named["compact"]!.fine_tune,
                "compact-distill is compact with distillation, so that the two compare")
    }
}
