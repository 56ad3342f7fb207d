/// Which epoch's weights `best.safetensors` holds, and early stopping's count of epochs since it.
///
/// An epoch is better when its val AUC is higher. Where AUC is undefined (a one-class val split: no pair of
/// a positive and a negative to rank), it is better when its val loss is lower: cross-entropy still ranks
/// how well the model fits the one class. An epoch with an AUC beats one without (the split is the same
/// every epoch, so a run compares by one criterion throughout; the rule only has to be total). The first
/// epoch is always the best so far.
struct BestEpoch: Equatable {
    /// The 0-based epoch, -1 before the first.
    var epoch = -1
    var auc: Double?
    var loss = Double.infinity
    var epochsSince = 0

    func isImproved(auc newAUC: Double?, loss newLoss: Double) -> Bool {
        guard epoch >= 0 else { return true }
        switch (newAUC, auc) {
        case let (new?, old?): return new > old
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return newLoss < loss
        }
    }

    /// Records epoch `index`'s validation; true when it is the new best (the caller then saves its weights).
    mutating func record(epoch index: Int, auc newAUC: Double?, loss newLoss: Double) -> Bool {
        guard isImproved(auc: newAUC, loss: newLoss) else { epochsSince += 1; return false }
        self = BestEpoch(epoch: index, auc: newAUC, loss: newLoss, epochsSince: 0)
        return true
    }

    /// As stored in the last checkpoint's info (an undefined AUC is no `best_val_auc` at all).
    var info: [String: String] {
        var info = ["best_epoch": "\(epoch)", "best_val_loss": "\(loss)", "epochs_since_best": "\(epochsSince)"]
        if let auc { info["best_val_auc"] = "\(auc)" }
        return info
    }

    /// From a last checkpoint's info. Checkpoints from before undefined AUCs were told apart store
    /// `best_val_auc` -1 for "none yet" and no `best_val_loss`.
    init(info: [String: String]) {
        epoch = Int(info["best_epoch"] ?? "") ?? -1
        auc = Double(info["best_val_auc"] ?? "").flatMap { $0 >= 0 ? $0 : nil }
        loss = Double(info["best_val_loss"] ?? "") ?? .infinity
        epochsSince = Int(info["epochs_since_best"] ?? "") ?? 0
    }

    init(epoch: Int = -1, auc: Double? = nil, loss: Double = .infinity, epochsSince: Int = 0) {
        self.epoch = epoch; self.auc = auc; self.loss = loss; self.epochsSince = epochsSince
    }
}
