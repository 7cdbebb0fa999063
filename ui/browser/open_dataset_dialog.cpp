#include "browser/open_dataset_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

#include "background_job.h"
#include "browser/dataset_text.h"
#include "common/thread_priority.h"
#include "data/formats/wsol_reader.h"

namespace camx::ui {

namespace {
constexpr const char* kChoicesKey = "open/choices";  // folder -> "format|metadata folder"
constexpr int kMaxChoices = 32;

// What the background look at the folders found.
struct Detection {
    bool folderExists = false;
    DatasetFormat format = DatasetFormat::Auto;
    QString why;  // core's words when the folder is no format
    bool metadataChecked = false;
    bool metadataOk = false;
    bool folderIsMetadata = false;  // the folder given is wsolevaluation metadata itself
};

QString formatItemText(DatasetFormat f) {
    switch (f) {
        case DatasetFormat::Auto:
            return OpenDatasetDialog::tr("Automatic (detected from the folder)");
        case DatasetFormat::Wsol:
            return OpenDatasetDialog::tr("wsolevaluation metadata (CUB, ImageNet, OpenImages)");
        case DatasetFormat::ImageNet:
            return OpenDatasetDialog::tr("ImageNet (ILSVRC) validation");
        case DatasetFormat::ImageFolder:
            return OpenDatasetDialog::tr("Image folder (class subfolders, no boxes)");
        case DatasetFormat::Tfds:
            return OpenDatasetDialog::tr("TensorFlow Datasets copy (tfds.load, TFRecord shards)");
        default:
            return formatDisplayName(f);
    }
}
}  // namespace

OpenOptions DatasetChoice::options() const {
    OpenOptions o;
    o.format = format;
    if (format == DatasetFormat::Wsol && !metadataDir.isEmpty())
        o.metadataDir = metadataDir.toStdString();
    return o;
}

DatasetChoice DatasetChoice::rememberedFor(const QString& dir) {
    DatasetChoice c;
    c.dir = dir;
    const QString entry = QSettings().value(kChoicesKey).toMap().value(dir).toString();
    const qsizetype bar = entry.indexOf(QLatin1Char('|'));
    if (bar < 0) return c;
    if (auto f = parseDatasetFormat(entry.left(bar).toStdString())) {
        c.format = *f;
        c.metadataDir = entry.mid(bar + 1);
    }
    return c;
}

void DatasetChoice::remember() const {
    QSettings s;
    QVariantMap choices = s.value(kChoicesKey).toMap();
    if (format == DatasetFormat::Auto)
        choices.remove(dir);
    else
        choices.insert(dir, QString::fromLatin1(datasetFormatName(format)) + QLatin1Char('|') +
                                (format == DatasetFormat::Wsol ? metadataDir : QString()));
    // Bounded: the folders still in Recent Datasets stay.
    if (choices.size() > kMaxChoices) {
        const QStringList recent = s.value("recent/datasets").toStringList();
        for (auto it = choices.begin(); it != choices.end();)
            it = it.key() != dir && !recent.contains(it.key()) ? choices.erase(it) : std::next(it);
    }
    s.setValue(kChoicesKey, choices);
}

OpenDatasetDialog::OpenDatasetDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Open Dataset"));
    setObjectName(QStringLiteral("openDatasetDialog"));
    m_folder = new QLineEdit;
    m_folder->setObjectName(QStringLiteral("datasetFolderEdit"));
    m_folder->setPlaceholderText(tr("The dataset's folder"));
    m_folder->setClearButtonEnabled(true);
    auto* browseFolder = new QPushButton(tr("&Browse…"));
    browseFolder->setObjectName(QStringLiteral("datasetFolderBrowse"));
    m_format = new QComboBox;
    m_format->setObjectName(QStringLiteral("datasetFormatCombo"));
    for (DatasetFormat f : allDatasetFormats())
        m_format->addItem(formatItemText(f), static_cast<int>(f));
    m_metadata = new QLineEdit;
    m_metadata->setObjectName(QStringLiteral("wsolMetadataEdit"));
    m_metadata->setPlaceholderText(tr("e.g. wsolevaluation/metadata/CUB"));
    m_metadata->setClearButtonEnabled(true);
    auto* browseMetadata = new QPushButton(tr("B&rowse…"));
    browseMetadata->setObjectName(QStringLiteral("wsolMetadataBrowse"));
    m_description = new QLabel;
    m_description->setObjectName(QStringLiteral("formatDescription"));
    m_description->setWordWrap(true);
    m_detected = new QLabel;
    m_detected->setObjectName(QStringLiteral("formatDetected"));
    m_detected->setWordWrap(true);
    m_detected->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problem = new QLabel;
    m_problem->setObjectName(QStringLiteral("openProblem"));
    m_problem->setWordWrap(true);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Open)->setObjectName(QStringLiteral("openButton"));

    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browseFolder);
    m_metadataRow = new QWidget;
    auto* metadataRow = new QHBoxLayout(m_metadataRow);
    metadataRow->setContentsMargins(0, 0, 0, 0);
    metadataRow->addWidget(m_metadata, 1);
    metadataRow->addWidget(browseMetadata);
    m_form = new QFormLayout;
    m_form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    auto* folderLabel = new QLabel(tr("Dataset &folder:"));
    folderLabel->setBuddy(m_folder);
    m_form->addRow(folderLabel, folderRow);
    m_form->addRow(tr("&Format:"), m_format);
    m_form->addRow(tr("wsolevaluation &metadata folder:"), m_metadataRow);
    m_form->addRow(QString(), m_description);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(m_form);
    layout->addWidget(m_detected);
    layout->addWidget(m_problem);
    layout->addStretch(1);
    layout->addWidget(m_buttons);
    setMinimumWidth(620);

    m_detectTimer = new QTimer(this);
    m_detectTimer->setSingleShot(true);
    m_detectTimer->setInterval(250);  // once typing stops
    connect(m_detectTimer, &QTimer::timeout, this, &OpenDatasetDialog::startDetection);
    connect(browseFolder, &QPushButton::clicked, this, &OpenDatasetDialog::browseFolder);
    connect(browseMetadata, &QPushButton::clicked, this, &OpenDatasetDialog::browseMetadata);
    for (QLineEdit* e : {m_folder, m_metadata})
        connect(e, &QLineEdit::textChanged, this, [this] {
            updateState();
            m_detectTimer->start();
        });
    connect(m_format, &QComboBox::currentIndexChanged, this, [this] {
        updateState();
        m_detectTimer->start();
    });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &OpenDatasetDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    QSettings s;
    DatasetChoice last;
    last.dir = s.value("paths/lastDataset").toString();
    last.format = parseDatasetFormat(s.value("open/format").toString().toStdString())
                      .value_or(DatasetFormat::Auto);
    last.metadataDir = s.value("paths/lastWsolMetadata").toString();
    setChoice(last);
}

OpenDatasetDialog::~OpenDatasetDialog() = default;  // a detection running finishes alone

void OpenDatasetDialog::setChoice(const DatasetChoice& c) {
    m_folder->setText(QDir::toNativeSeparators(c.dir));
    m_format->setCurrentIndex(std::max(0, m_format->findData(static_cast<int>(c.format))));
    m_metadata->setText(QDir::toNativeSeparators(c.metadataDir));
    updateState();
    startDetection();
}

DatasetChoice OpenDatasetDialog::choice() const {
    DatasetChoice c;
    c.dir = QDir::fromNativeSeparators(m_folder->text().trimmed());
    c.format = static_cast<DatasetFormat>(m_format->currentData().toInt());
    if (c.format == DatasetFormat::Wsol)
        c.metadataDir = QDir::fromNativeSeparators(m_metadata->text().trimmed());
    return c;
}

QString OpenDatasetDialog::problem() const {
    const DatasetChoice c = choice();
    if (c.dir.isEmpty()) return tr("Choose the dataset's folder.");
    // A stat each: cheap enough for the GUI thread.
    if (!QFileInfo::exists(c.dir)) return tr("%1 does not exist.").arg(c.dir);
    if (c.format == DatasetFormat::Wsol) {
        // make-demo's wsol folder holds images/ and metadata/ itself.
        if (c.metadataDir.isEmpty() && isWsolPairFolder(c.dir.toStdString())) return {};
        if (c.metadataDir.isEmpty())
            return tr(
                "wsolevaluation metadata needs its metadata folder (metadata/CUB, "
                "metadata/ILSVRC or metadata/OpenImages).");
        if (!QFileInfo(c.metadataDir).isDir())
            return tr("The metadata folder %1 does not exist.").arg(c.metadataDir);
    }
    return {};
}

QString OpenDatasetDialog::detectedText() const {
    return m_detectedText;
}

void OpenDatasetDialog::updateState() {
    const auto format = static_cast<DatasetFormat>(m_format->currentData().toInt());
    m_form->setRowVisible(m_metadataRow, format == DatasetFormat::Wsol);
    m_description->setText(formatDescription(format));
    const QString why = problem();
    m_buttons->button(QDialogButtonBox::Open)->setEnabled(why.isEmpty());
    // Said once something has been typed: an empty form is not an error.
    m_problem->setText(m_folder->text().trimmed().isEmpty() ? QString() : why);
    m_problem->setVisible(!m_problem->text().isEmpty());
    fitHeight();
}

void OpenDatasetDialog::fitHeight() {
    // Wrapped text (the format's description, a long problem) needs more height at this width
    // than the dialog had for the previous text: grow to it, never shrink under the user.
    if (QLayout* l = layout(); l && l->hasHeightForWidth()) {
        l->activate();
        const int want = l->totalHeightForWidth(width());
        if (want > height()) resize(width(), want);
    }
}

void OpenDatasetDialog::showEvent(QShowEvent* e) {
    QDialog::showEvent(e);
    fitHeight();
}

void OpenDatasetDialog::startDetection() {
    m_detectTimer->stop();
    const DatasetChoice c = choice();
    const int generation = ++m_detectGeneration;
    m_detectedText.clear();
    m_detected->clear();
    if (c.dir.isEmpty()) return;
    // Looking at a folder lists some of its files (a network drive can take a while): never on
    // the GUI thread. An answer for an older folder or format is dropped.
    auto* watcher = new QFutureWatcher<Detection>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation, c] {
        watcher->deleteLater();
        if (generation != m_detectGeneration || !watcher->future().resultCount()) return;
        const Detection d = watcher->result();
        QString text;
        if (!d.folderExists) {
            text.clear();  // problem() says so
        } else if (c.format == DatasetFormat::Auto && d.folderIsMetadata) {
            text = tr("This is wsolevaluation metadata: choose the format \"%1\", give this "
                      "folder as its metadata folder and, as the dataset folder, the folder "
                      "its image ids are relative to.")
                       .arg(formatItemText(DatasetFormat::Wsol));
        } else if (c.format == DatasetFormat::Auto) {
            text = d.format != DatasetFormat::Auto
                       ? tr("Detected: %1.").arg(formatDisplayName(d.format))
                       : tr("Not recognised: %1.").arg(d.why);
        } else if (c.format == DatasetFormat::Wsol && d.metadataChecked && !d.metadataOk) {
            text = tr("%1 does not look like wsolevaluation metadata: it should hold train/, "
                      "val/ or test/ with image_ids.txt.")
                       .arg(c.metadataDir);
        }
        m_detectedText = text;
        m_detected->setText(text);
        fitHeight();
        Q_EMIT detectionFinished();
    });
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [c]() {
        lowerCurrentThreadPriority();
        Detection d;
        const std::filesystem::path dir = c.dir.toStdString();
        std::error_code ec;
        d.folderExists = std::filesystem::exists(dir, ec);
        if (!d.folderExists) return d;
        try {
            if (c.format == DatasetFormat::Auto) {
                std::string why;
                d.format = detectDatasetFormat(dir, &why);
                d.why = QString::fromStdString(why);
                d.folderIsMetadata = d.format == DatasetFormat::Auto && looksLikeWsolMetadata(dir);
            } else if (c.format == DatasetFormat::Wsol && !c.metadataDir.isEmpty()) {
                d.metadataChecked = true;
                d.metadataOk = looksLikeWsolMetadata(c.metadataDir.toStdString());
            }
        } catch (const std::exception& e) {
            d.why = QString::fromStdString(e.what());
        }
        return d;
    }));
}

void OpenDatasetDialog::browseFolder() {
    const QString start = m_folder->text().trimmed();
    const QString dir = QFileDialog::getExistingDirectory(this, tr("The dataset's folder"), start);
    if (!dir.isEmpty()) m_folder->setText(QDir::toNativeSeparators(dir));
}

void OpenDatasetDialog::browseMetadata() {
    QString start = m_metadata->text().trimmed();
    if (start.isEmpty()) start = m_folder->text().trimmed();
    const QString dir = QFileDialog::getExistingDirectory(
        this,
        tr("wsolevaluation's metadata folder (metadata/CUB, metadata/ILSVRC or "
           "metadata/OpenImages)"),
        start);
    if (!dir.isEmpty()) m_metadata->setText(QDir::toNativeSeparators(dir));
}

void OpenDatasetDialog::saveAnswers() const {
    const DatasetChoice c = choice();
    QSettings s;
    s.setValue("open/format", QString::fromLatin1(datasetFormatName(c.format)));
    if (!m_metadata->text().trimmed().isEmpty())
        s.setValue("paths/lastWsolMetadata",
                   QDir::fromNativeSeparators(m_metadata->text().trimmed()));
}

void OpenDatasetDialog::accept() {
    if (!problem().isEmpty()) return;
    saveAnswers();
    QDialog::accept();
}

}  // namespace camx::ui
