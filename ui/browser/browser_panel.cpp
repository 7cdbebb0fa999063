#include "browser/browser_panel.h"

#include <QComboBox>
#include <QDir>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSignalBlocker>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include "browser/dataset_filter.h"
#include "browser/dataset_model.h"
#include "browser/dataset_text.h"

namespace camx::ui {

BrowserPanel::BrowserPanel(DatasetModel* model, QWidget* parent) : QWidget(parent), m_model(model) {
    m_filter = new DatasetFilter(this);
    m_filter->setSourceModel(model);
    m_filter->setSortKey(DatasetFilter::SortKey::Name);

    m_info = new QLabel;
    m_info->setObjectName(QStringLiteral("datasetInfo"));
    m_info->setWordWrap(true);
    m_info->setTextFormat(Qt::RichText);
    m_info->setTextInteractionFlags(Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    m_info->hide();
    m_split = new QComboBox;
    m_split->setObjectName(QStringLiteral("splitCombo"));
    fillSplitCombo(m_split, nullptr, SplitKind::Test);
    m_class = new QComboBox;
    m_class->setObjectName(QStringLiteral("classFilter"));
    // A thousand ImageNet classes must not set the dock's width.
    m_class->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_class->setMinimumContentsLength(14);
    m_correct = new QComboBox;
    m_correct->setObjectName(QStringLiteral("correctFilter"));
    m_correct->addItem(tr("All predictions"), static_cast<int>(DatasetFilter::Correctness::Any));
    m_correct->addItem(tr("Correct"), static_cast<int>(DatasetFilter::Correctness::Correct));
    m_correct->addItem(tr("Wrong"), static_cast<int>(DatasetFilter::Correctness::Wrong));
    m_sort = new QComboBox;
    m_sort->setObjectName(QStringLiteral("sortCombo"));
    m_sort->addItem(tr("Name"), static_cast<int>(DatasetFilter::SortKey::Name));
    m_sort->addItem(tr("Class"), static_cast<int>(DatasetFilter::SortKey::Breed));
    m_sort->addItem(tr("Confidence (low first)"),
                    static_cast<int>(DatasetFilter::SortKey::Confidence));
    m_sort->addItem(tr("IoU (low first)"), static_cast<int>(DatasetFilter::SortKey::Iou));
    m_sort->setItemData(m_sort->count() - 1,
                        tr("Images without ground-truth boxes have no IoU: they come last"),
                        Qt::ToolTipRole);
    m_name = new QLineEdit;
    m_name->setObjectName(QStringLiteral("nameFilter"));
    m_name->setPlaceholderText(tr("File name contains…"));
    m_name->setClearButtonEnabled(true);
    m_view = new QListView;
    m_view->setObjectName(QStringLiteral("thumbnails"));
    m_view->setViewMode(QListView::IconMode);
    m_view->setIconSize(DatasetModel::thumbnailSize());
    m_view->setGridSize(QSize(114, 100));
    m_view->setUniformItemSizes(true);
    m_view->setResizeMode(QListView::Adjust);
    m_view->setMovement(QListView::Static);
    m_view->setLayoutMode(QListView::Batched);
    m_view->setBatchSize(200);
    m_view->setModel(m_filter);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_count = new QLabel;
    m_banner = new QWidget;
    m_banner->setObjectName(QStringLiteral("showOnlyBanner"));
    m_bannerText = new QLabel;
    m_bannerText->setWordWrap(true);
    auto* showAll = new QPushButton(tr("Show &All"));
    auto* bannerLayout = new QHBoxLayout(m_banner);
    bannerLayout->setContentsMargins(0, 0, 0, 0);
    bannerLayout->addWidget(m_bannerText, 1);
    bannerLayout->addWidget(showAll);
    m_banner->hide();
    connect(showAll, &QPushButton::clicked, this, &BrowserPanel::clearShowOnly);

    auto* form = new QFormLayout;
    form->addRow(tr("&Split"), m_split);
    form->addRow(tr("C&lass"), m_class);
    form->addRow(tr("Show"), m_correct);
    form->addRow(tr("S&ort"), m_sort);
    form->addRow(tr("&Find"), m_name);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_info);
    layout->addLayout(form);
    layout->addWidget(m_banner);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_count);

    auto updateCount = [this] {
        m_count->setText(tr("%1 of %2 images").arg(m_filter->rowCount()).arg(m_model->rowCount()));
    };
    connect(m_filter, &QAbstractItemModel::rowsInserted, this, updateCount);
    connect(m_filter, &QAbstractItemModel::rowsRemoved, this, updateCount);
    connect(m_filter, &QAbstractItemModel::modelReset, this, updateCount);
    connect(m_filter, &QAbstractItemModel::layoutChanged, this, updateCount);
    connect(m_split, &QComboBox::currentIndexChanged, this,
            [this] { Q_EMIT splitChanged(split()); });
    connect(m_class, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setBreed(m_class->currentData().toInt()); });
    connect(m_info, &QLabel::linkActivated, this, [this] { Q_EMIT loadReportRequested(); });
    connect(m_correct, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setCorrectness(
            static_cast<DatasetFilter::Correctness>(m_correct->currentData().toInt()));
    });
    connect(m_sort, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setSortKey(static_cast<DatasetFilter::SortKey>(m_sort->currentData().toInt()));
    });
    connect(m_name, &QLineEdit::textChanged, m_filter, &DatasetFilter::setNameFilter);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid()) Q_EMIT currentChanged(m_filter->mapToSource(current).row());
            });
}

void BrowserPanel::setDataset(const Dataset* dataset, SplitKind split) {
    clearShowOnly();
    fillSplitCombo(m_split, dataset, split);
    if (dataset)
        m_model->setSplit(dataset->split(split).samples, dataset->breedNames);
    else
        m_model->setSplit({}, {});
    const QString rule = dataset ? QString::fromStdString(dataset->labelRule) : QString();
    refreshClasses(rule);
    if (dataset) {
        // What was read, and whether anything was left out: the report says what and why.
        const std::size_t skipped = totalSkipped(*dataset), repaired = totalRepaired(*dataset);
        QString issues;
        if (skipped && repaired)
            issues = tr("%1 skipped, %2 repaired").arg(skipped).arg(repaired);
        else if (skipped)
            issues = tr("%1 skipped").arg(skipped);
        else if (repaired)
            issues = tr("%1 repaired").arg(repaired);
        QString text = tr("<b>%1</b> · %2")
                           .arg(formatDisplayName(*dataset).toHtmlEscaped(),
                                classCount(dataset->numClasses()));
        text += QStringLiteral(" · <a href=\"report\">%1</a>")
                    .arg(issues.isEmpty() ? tr("load report") : tr("load report (%1)").arg(issues));
        if (!rule.isEmpty())
            text += QStringLiteral("<br><span>%1</span>")
                        .arg(tr("label: %1").arg(rule.toHtmlEscaped()));
        m_info->setText(text);
        m_info->setToolTip(
            QDir::toNativeSeparators(QString::fromStdString(dataset->root.string())) +
            QLatin1Char('\n') + loadReportSummary(*dataset));
    } else {
        m_info->clear();
        m_info->setToolTip({});
    }
    m_info->setVisible(dataset != nullptr);
    setEvaluationAvailable(false);
}

void BrowserPanel::setEvaluationAvailable(bool available, bool correctness) {
    const QString why =
        tr("Needs an evaluation of this model on this split: run one in Tools ▸ "
           "Evaluation Dashboard (Ctrl+E).");
    const QString noClasses =
        tr("The model's classes do not match the dataset's classes, so its predictions are "
           "not scored as right or wrong.");
    auto enableItems = [&](QComboBox* combo, std::initializer_list<int> values, bool on,
                           const QString& reason) {
        auto* items = qobject_cast<QStandardItemModel*>(combo->model());
        for (int v : values) {
            QStandardItem* item = items->item(combo->findData(v));
            item->setEnabled(on);
            item->setToolTip(on ? QString() : reason);
        }
    };
    const bool correctOn = available && correctness;
    const QString correctWhy = available ? noClasses : why;
    enableItems(m_correct,
                {static_cast<int>(DatasetFilter::Correctness::Correct),
                 static_cast<int>(DatasetFilter::Correctness::Wrong)},
                correctOn, correctWhy);
    enableItems(m_sort,
                {static_cast<int>(DatasetFilter::SortKey::Confidence),
                 static_cast<int>(DatasetFilter::SortKey::Iou)},
                available, why);
    m_correct->setToolTip(correctOn ? QString() : correctWhy);
    // Back to what works without them: every image, by name.
    if (!correctOn &&
        m_correct->currentData().toInt() != static_cast<int>(DatasetFilter::Correctness::Any))
        m_correct->setCurrentIndex(
            m_correct->findData(static_cast<int>(DatasetFilter::Correctness::Any)));
    if (!available) {
        const int sort = m_sort->currentData().toInt();
        if (sort == static_cast<int>(DatasetFilter::SortKey::Confidence) ||
            sort == static_cast<int>(DatasetFilter::SortKey::Iou))
            m_sort->setCurrentIndex(
                m_sort->findData(static_cast<int>(DatasetFilter::SortKey::Name)));
    }
}

void BrowserPanel::showOnly(const std::vector<int>& rows, const QString& description) {
    QSet<int> set(rows.begin(), rows.end());
    if (set.isEmpty()) set.insert(-1);  // an empty bar shows nothing, not everything
    m_filter->setRowSet(set);
    m_bannerText->setText(
        tr("Showing %1 (%n image(s))", nullptr, static_cast<int>(rows.size())).arg(description));
    m_banner->show();
    if (!rows.empty()) selectSourceRow(rows.front());
}

void BrowserPanel::clearShowOnly() {
    m_filter->setRowSet({});
    m_banner->hide();
}

std::vector<int> BrowserPanel::visibleSourceRows() const {
    std::vector<int> rows;
    for (int r = 0; r < m_filter->rowCount(); ++r)
        rows.push_back(m_filter->mapToSource(m_filter->index(r, 0)).row());
    return rows;
}

std::vector<int> BrowserPanel::selectedSourceRows() const {
    std::vector<std::pair<int, int>> picked;  // (view row, source row): keep the grid's order
    for (const QModelIndex& i : m_view->selectionModel()->selectedIndexes())
        picked.emplace_back(i.row(), m_filter->mapToSource(i).row());
    std::sort(picked.begin(), picked.end());
    std::vector<int> rows;
    for (const auto& p : picked) rows.push_back(p.second);
    return rows;
}

void BrowserPanel::refreshClasses(const QString& labelRule) {
    const QSignalBlocker b(m_class);
    m_class->clear();
    m_class->addItem(tr("All classes"), -1);
    for (std::size_t i = 0; i < m_model->breedNames().size(); ++i)
        m_class->addItem(QString::fromStdString(m_model->breedNames()[i]), static_cast<int>(i));
    // Where an image's one label had to be chosen (VOC: among its objects), say how.
    m_class->setToolTip(labelRule.isEmpty()
                            ? tr("Show the images of one class")
                            : tr("Show the images of one class (label: %1)").arg(labelRule));
    m_filter->setBreed(-1);
}

SplitKind BrowserPanel::split() const {
    return static_cast<SplitKind>(m_split->currentData().toInt());
}

int BrowserPanel::currentSourceRow() const {
    const QModelIndex i = m_view->currentIndex();
    return i.isValid() ? m_filter->mapToSource(i).row() : -1;
}

void BrowserPanel::selectSourceRow(int row) {
    const QModelIndex i = m_filter->mapFromSource(m_model->index(row));
    if (!i.isValid()) return;
    m_view->setCurrentIndex(i);
    m_view->scrollTo(i);
}

void BrowserPanel::step(int delta) {
    const int n = m_filter->rowCount();
    if (n == 0) return;
    const QModelIndex cur = m_view->currentIndex();
    const int row = cur.isValid() ? std::clamp(cur.row() + delta, 0, n - 1) : 0;
    m_view->setCurrentIndex(m_filter->index(row, 0));
    m_view->scrollTo(m_filter->index(row, 0));
}

void BrowserPanel::selectFirst() {
    step(-m_filter->rowCount());
}
void BrowserPanel::selectLast() {
    step(m_filter->rowCount());
}

std::vector<int> BrowserPanel::neighbours(int count) const {
    std::vector<int> out;
    const QModelIndex cur = m_view->currentIndex();
    if (!cur.isValid()) return out;
    for (int d = 1; d <= count; ++d)
        for (int s : {d, -d}) {
            const int r = cur.row() + s;
            if (r >= 0 && r < m_filter->rowCount())
                out.push_back(m_filter->mapToSource(m_filter->index(r, 0)).row());
        }
    return out;
}

}  // namespace camx::ui
