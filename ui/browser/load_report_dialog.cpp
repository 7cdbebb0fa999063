#include "browser/load_report_dialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QTextDocumentFragment>
#include <QVBoxLayout>

#include "browser/dataset_text.h"

namespace camx::ui {

namespace {
QStandardItem* cell(const QString& text, bool number = false) {
    auto* item = new QStandardItem(text);
    item->setEditable(false);
    item->setToolTip(text);
    if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QTableView* table(QAbstractItemModel* model, const QString& name) {
    auto* v = new QTableView;
    v->setObjectName(name);
    v->setModel(model);
    v->setEditTriggers(QAbstractItemView::NoEditTriggers);
    v->setSelectionBehavior(QAbstractItemView::SelectRows);
    v->verticalHeader()->hide();
    v->setWordWrap(false);
    v->setAlternatingRowColors(true);
    return v;
}
}  // namespace

LoadReportDialog::LoadReportDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Dataset Load Report"));
    setObjectName(QStringLiteral("loadReportDialog"));
    m_heading = new QLabel;
    m_heading->setObjectName(QStringLiteral("loadReportHeading"));
    m_heading->setWordWrap(true);
    m_heading->setTextFormat(Qt::RichText);
    m_heading->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_splits = new QStandardItemModel(this);
    m_splitView = table(m_splits, QStringLiteral("loadReportSplits"));
    m_splitView->setSelectionMode(QAbstractItemView::NoSelection);
    m_splitView->setFocusPolicy(Qt::NoFocus);
    // As wide as its columns: five short numbers do not need the dialog's width.
    m_splitView->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    m_splitView->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_splitView->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_issues = new QStandardItemModel(this);
    m_issueFilter = new QSortFilterProxyModel(this);
    m_issueFilter->setSourceModel(m_issues);
    m_issueFilter->setFilterKeyColumn(-1);  // any column
    m_issueFilter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_issueView = table(m_issueFilter, QStringLiteral("loadReportIssues"));
    m_issueView->setSortingEnabled(true);
    m_issueView->setTextElideMode(Qt::ElideMiddle);  // a path's start and its file name
    m_find = new QLineEdit;
    m_find->setObjectName(QStringLiteral("loadReportFind"));
    m_find->setPlaceholderText(tr("Show issues containing…"));
    m_find->setClearButtonEnabled(true);
    m_issueCount = new QLabel;
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    QPushButton* copy = buttons->addButton(tr("&Copy Report"), QDialogButtonBox::ActionRole);
    copy->setToolTip(tr("Copy the whole report as tab-separated text"));

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_heading);
    auto* splitRow = new QHBoxLayout;
    splitRow->addWidget(m_splitView);
    splitRow->addStretch(1);
    layout->addLayout(splitRow);
    auto* issuesTitle =
        new QLabel(tr("<b>Issues</b>: images skipped (not loaded) or repaired "
                      "(a box clipped to the image), with the file at fault"));
    issuesTitle->setWordWrap(true);
    layout->addWidget(issuesTitle);
    layout->addWidget(m_find);
    layout->addWidget(m_issueView, 1);
    layout->addWidget(m_issueCount);
    layout->addWidget(buttons);
    resize(860, 560);

    connect(m_find, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_issueFilter->setFilterFixedString(text);
        m_issueCount->setText(tr("%1 of %2 shown")
                                  .arg(m_issueFilter->rowCount())
                                  .arg(issueCount(static_cast<std::size_t>(m_issues->rowCount()))));
    });
    connect(copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(reportText()); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    setDataset(nullptr);
}

void LoadReportDialog::setDataset(const Dataset* d) {
    m_splits->clear();
    m_issues->clear();
    m_splits->setHorizontalHeaderLabels(
        {tr("Split"), tr("Listed"), tr("Loaded"), tr("Skipped"), tr("Repaired")});
    m_issues->setHorizontalHeaderLabels({tr("Split"), tr("Kind"), tr("File"), tr("Problem")});
    if (!d) {
        m_heading->setText(tr("No dataset is open."));
    } else {
        QString heading =
            tr("<b>%1</b> read from %2 · %3")
                .arg(formatDisplayName(*d).toHtmlEscaped(),
                     QDir::toNativeSeparators(QString::fromStdString(d->root.string()))
                         .toHtmlEscaped(),
                     classCount(d->numClasses()));
        if (!d->labelRule.empty())
            heading += QStringLiteral("<br>") +
                       tr("Label: %1").arg(QString::fromStdString(d->labelRule).toHtmlEscaped());
        for (const std::string& note : d->notes)
            heading += QStringLiteral("<br>") +
                       tr("Note: %1").arg(QString::fromStdString(note).toHtmlEscaped());
        m_heading->setText(heading);
        for (SplitKind k : {SplitKind::Train, SplitKind::Val, SplitKind::Test}) {
            const SplitData& split = d->split(k);
            const LoadReport& r = split.report;
            if (k == SplitKind::Val && r.listed == 0 && split.samples.empty() && r.issues.empty())
                continue;  // no validation split: no row
            const QString name = splitDisplayName(k);
            m_splits->appendRow({cell(name), cell(QString::number(r.listed), true),
                                 cell(QString::number(r.loaded), true),
                                 cell(QString::number(r.skipped()), true),
                                 cell(QString::number(r.repaired()), true)});
            for (const LoadIssue& i : r.issues)
                m_issues->appendRow(
                    {cell(name),
                     cell(i.kind == LoadIssue::Kind::Skipped ? tr("skipped") : tr("repaired")),
                     cell(QDir::toNativeSeparators(QString::fromStdString(i.file))),
                     cell(QString::fromStdString(i.message))});
        }
    }
    for (int c = 0; c < m_splits->columnCount(); ++c)
        m_splitView->horizontalHeader()->setSectionResizeMode(
            c, c == 0 ? QHeaderView::ResizeToContents : QHeaderView::Fixed);
    for (int c = 1; c < m_splits->columnCount(); ++c)
        m_splitView->horizontalHeader()->resizeSection(
            c, std::max(80, m_splitView->horizontalHeader()->sectionSizeHint(c)));
    m_splitView->setFixedHeight(m_splitView->horizontalHeader()->sizeHint().height() +
                                m_splitView->verticalHeader()->defaultSectionSize() *
                                    std::max(1, m_splits->rowCount()) +
                                2 * m_splitView->frameWidth());
    QHeaderView* h = m_issueView->horizontalHeader();
    h->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    h->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    h->setSectionResizeMode(2, QHeaderView::Interactive);
    h->resizeSection(2, 380);
    h->setStretchLastSection(true);
    m_find->clear();
    m_issueCount->setText(m_issues->rowCount() == 0
                              ? tr("No issues: every listed image was loaded as it is.")
                              : issueCount(static_cast<std::size_t>(m_issues->rowCount())));
}

QString LoadReportDialog::reportText() const {
    QStringList lines;
    const auto row = [](const QStandardItemModel* m, int r) {
        QStringList cells;
        for (int c = 0; c < m->columnCount(); ++c) cells << m->item(r, c)->text();
        return cells.join(QLatin1Char('\t'));
    };
    const auto header = [](const QStandardItemModel* m) {
        QStringList cells;
        for (int c = 0; c < m->columnCount(); ++c)
            cells << m->headerData(c, Qt::Horizontal).toString();
        return cells.join(QLatin1Char('\t'));
    };
    lines << QTextDocumentFragment::fromHtml(m_heading->text()).toPlainText();
    lines << header(m_splits);
    for (int r = 0; r < m_splits->rowCount(); ++r) lines << row(m_splits, r);
    lines << QString() << header(m_issues);
    for (int r = 0; r < m_issues->rowCount(); ++r) lines << row(m_issues, r);
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

}  // namespace camx::ui
