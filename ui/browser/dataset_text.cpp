#include "browser/dataset_text.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QSettings>
#include <QSignalBlocker>

namespace camx::ui {

namespace {
QString tr(const char* text) {
    return QCoreApplication::translate("camx::ui::DatasetText", text);
}

constexpr const char* kSplitKey = "browser/split";
}  // namespace

QString formatDisplayName(DatasetFormat format, const std::string& benchmark) {
    switch (format) {
        case DatasetFormat::StanfordDogs:
            return tr("Stanford Dogs");
        case DatasetFormat::Cub:
            return tr("CUB-200-2011");
        case DatasetFormat::Wsol:
            return benchmark.empty()
                       ? tr("wsolevaluation metadata")
                       : tr("wsolevaluation metadata (%1)").arg(QString::fromStdString(benchmark));
        case DatasetFormat::ImageNet:
            return tr("ImageNet validation");
        case DatasetFormat::Voc:
            return tr("PASCAL VOC");
        case DatasetFormat::ImageFolder:
            return tr("image folder");
        case DatasetFormat::Tfds:
            return tr("TensorFlow Datasets (TFRecord)");
        case DatasetFormat::Auto:
            break;
    }
    return tr("automatic detection");
}

QString formatDisplayName(const Dataset& dataset) {
    return formatDisplayName(dataset.format, dataset.benchmark);
}

QString formatDescription(DatasetFormat format) {
    switch (format) {
        case DatasetFormat::Auto:
            return tr(
                "CAM Explorer looks at the folder's files and reads it as the format they "
                "show: Stanford Dogs (also as TensorFlow Datasets copies it), CUB-200-2011, "
                "PASCAL VOC, ImageNet validation or an image folder. wsolevaluation metadata is "
                "never guessed: choose it and "
                "give its metadata folder.");
        case DatasetFormat::StanfordDogs:
            return tr(
                "Images/, Annotation/ and train_list.mat / test_list.mat (in lists/ or at "
                "the top), or the three downloaded archives images.tar, annotation.tar "
                "and lists.tar (unpacked once, then cached).");
        case DatasetFormat::Cub:
            return tr(
                "CUB_200_2011 as distributed (or the folder holding it, or holding "
                "CUB_200_2011.tgz): images.txt, image_class_labels.txt, "
                "train_test_split.txt, bounding_boxes.txt, classes.txt and images/.");
        case DatasetFormat::Wsol:
            return tr(
                "The folder the benchmark's image ids are relative to (e.g. the folder "
                "holding CUB_200_2011/images, ILSVRC or OpenImages), and wsolevaluation's "
                "metadata folder for it: metadata/CUB, metadata/ILSVRC or "
                "metadata/OpenImages, with train/, val/ and test/ each holding "
                "image_ids.txt, class_labels.txt, localization.txt and image_sizes.txt.");
        case DatasetFormat::ImageNet:
            return tr(
                "The ILSVRC 2012 validation images with their boxes: Kaggle's layout "
                "(LOC_val_solution.csv, LOC_synset_mapping.txt, ILSVRC/Data/CLS-LOC/val) "
                "or the validation images with the per-image XML of "
                "ILSVRC2012_bbox_val_v3. Everything is in the test split.");
        case DatasetFormat::Voc:
            return tr(
                "VOC2007 or VOC2012 (or the VOCdevkit folder holding them): Annotations/, "
                "JPEGImages/ and ImageSets/Main/. Each image is labelled with the class of "
                "its largest object.");
        case DatasetFormat::ImageFolder:
            return tr(
                "Class subfolders of images, as torchvision's ImageFolder reads them, "
                "optionally inside train/, val/ and test/. There are no boxes: IoU is not "
                "scored.");
        case DatasetFormat::Tfds:
            return tr(
                "Stanford Dogs as tfds.load('stanford_dogs') stores it: the folder "
                "~/tensorflow_datasets/stanford_dogs (the highest version in it is read) or "
                "its version folder (0.2.0), holding stanford_dogs-train/test.tfrecord-… "
                "shards and label.labels.txt. The images stay in the shards; their index "
                "is built once and cached.");
    }
    return {};
}

QString classCount(std::size_t n) {
    return n == 1 ? tr("1 class") : tr("%1 classes").arg(n);
}

QString imageCount(std::size_t n) {
    return n == 1 ? tr("1 image") : tr("%1 images").arg(n);
}

QString issueCount(std::size_t n) {
    return n == 1 ? tr("1 issue") : tr("%1 issues").arg(n);
}

std::vector<DatasetFormat> allDatasetFormats() {
    return {DatasetFormat::Auto,        DatasetFormat::StanfordDogs, DatasetFormat::Cub,
            DatasetFormat::Wsol,        DatasetFormat::ImageNet,     DatasetFormat::Voc,
            DatasetFormat::ImageFolder, DatasetFormat::Tfds};
}

QString splitDisplayName(SplitKind split) {
    switch (split) {
        case SplitKind::Train:
            return tr("training");
        case SplitKind::Val:
            return tr("validation");
        case SplitKind::Test:
            break;
    }
    return tr("test");
}

std::vector<SplitKind> offeredSplits(const Dataset* dataset) {
    if (!dataset) return {SplitKind::Test, SplitKind::Train};
    std::vector<SplitKind> out{SplitKind::Test};
    for (SplitKind k : {SplitKind::Val, SplitKind::Train})
        if (!dataset->split(k).samples.empty()) out.push_back(k);
    return out;
}

void fillSplitCombo(QComboBox* combo, const Dataset* dataset, SplitKind current) {
    const QSignalBlocker block(combo);
    combo->clear();
    for (SplitKind k : offeredSplits(dataset)) {
        const QString text = k == SplitKind::Test  ? tr("Test split")
                             : k == SplitKind::Val ? tr("Validation split")
                                                   : tr("Train split");
        combo->addItem(text, static_cast<int>(k));
        if (dataset)
            combo->setItemData(combo->count() - 1, imageCount(dataset->split(k).samples.size()),
                               Qt::ToolTipRole);
    }
    const int i = combo->findData(static_cast<int>(current));
    combo->setCurrentIndex(i >= 0 ? i : combo->findData(static_cast<int>(SplitKind::Test)));
}

SplitKind rememberedSplit() {
    const QString value = QSettings().value(kSplitKey).toString();
    if (auto k = parseSplitName(value.toStdString())) return *k;
    // Before the validation split existed the key held the enum's value: 0 train, 1 test.
    return value == QLatin1String("0") ? SplitKind::Train : SplitKind::Test;
}

void rememberSplit(SplitKind split) {
    QSettings().setValue(kSplitKey, QString::fromLatin1(splitName(split)));
}

std::size_t totalSkipped(const Dataset& d) {
    return d.train.report.skipped() + d.val.report.skipped() + d.test.report.skipped();
}

std::size_t totalRepaired(const Dataset& d) {
    return d.train.report.repaired() + d.val.report.repaired() + d.test.report.repaired();
}

QString loadReportSummary(const Dataset& d) {
    std::size_t listed = 0, loaded = 0;
    for (const SplitData* s : {&d.train, &d.val, &d.test}) {
        listed += s->report.listed;
        loaded += s->report.loaded;
    }
    return tr("%1 listed, %2 loaded, %3 skipped, %4 repaired")
        .arg(listed)
        .arg(loaded)
        .arg(totalSkipped(d))
        .arg(totalRepaired(d));
}

}  // namespace camx::ui
