// The Data module: MedMNIST data sets from file to batches.
//
//   .npz on disk ─ ZipArchive (+ Zlib inflate) ─ NPYReader ─ MedMNISTDataset ─ ImageSplit
//        ▲                                                          │
//   DatasetCache (download, MD5, rename)          SplitStatistics / DatasetReport / SampleGrid
//                                                                   │
//                                 BatchSampler ─ DataLoader ─ Preprocessing (+ Augmentation) ─ Batch (Tensor)
//
// Every reader checks each offset and length that comes from a file and throws a `DataError` naming the
// file and member, so a damaged download is reported, never a crash.
import GraphCore
