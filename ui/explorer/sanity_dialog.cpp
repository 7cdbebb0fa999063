#include "explorer/sanity_dialog.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "common/image_convert.h"
#include "explorer/explorer_metrics.h"

namespace camx::ui {

namespace {
constexpr int kThumb = 160;  // the picture's longest side in a cell
constexpr int kGap = 10;

QString number(double v) {
    return std::isnan(v) ? QStringLiteral("n/a") : QString::number(v, 'f', 3);
}

QString noteText() {
    return QObject::tr(
        "Each step re-initialises one more part of the model, from the output back to the input "
        "(cumulative), and explains the original's class again with the same method and layer. "
        "ρ: Spearman rank correlation, SSIM: structural similarity, each to the original map as "
        "shown (ReLU where the method has one, min-max, at the input size; absolute values). A "
        "method that explains the model should lose its similarity as the model is randomised "
        "(Adebayo et al., 2018). n/a: a constant map (nothing above zero) has no ranks.");
}
}  // namespace

SanityStrip::SanityStrip(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
}

void SanityStrip::setCells(std::vector<Cell> cells) {
    m_cells = std::move(cells);
    updateGeometry();
    update();
}

QSize SanityStrip::cellSize() const {
    const int line = fontMetrics().height();
    return {kThumb + kGap, pictureHeight() + 2 * line + kGap + 6};
}

int SanityStrip::pictureHeight() const {
    int h = 0;
    for (const Cell& c : m_cells)
        h = std::max(h, c.picture.size().scaled(kThumb, kThumb, Qt::KeepAspectRatio).height());
    return h > 0 ? h : kThumb;
}

int SanityStrip::columnsFor(int width) const {
    return std::max(1, width / cellSize().width());
}

int SanityStrip::heightForWidth(int width) const {
    const int n = static_cast<int>(m_cells.size());
    const int cols = columnsFor(width);
    return ((n + cols - 1) / cols) * cellSize().height();
}

QSize SanityStrip::sizeHint() const {
    const int cols = std::min<int>(6, std::max<std::size_t>(1, m_cells.size()));
    return {cols * cellSize().width(), heightForWidth(cols * cellSize().width())};
}

void SanityStrip::paintCells(QPainter& p, int columns, int top) const {
    const QSize cell = cellSize();
    const int line = p.fontMetrics().height();
    p.setRenderHint(QPainter::SmoothPixmapTransform, true);
    for (std::size_t i = 0; i < m_cells.size(); ++i) {
        const Cell& c = m_cells[i];
        const int col = static_cast<int>(i) % columns, row = static_cast<int>(i) / columns;
        const QRect box(col * cell.width() + kGap / 2, top + row * cell.height() + kGap / 2,
                        cell.width() - kGap, cell.height() - kGap);
        const int picHeight = pictureHeight();
        QSize pic = c.picture.size().scaled(kThumb, kThumb, Qt::KeepAspectRatio);
        const QRect picRect(box.x() + (box.width() - pic.width()) / 2,
                            box.y() + (picHeight - pic.height()) / 2, pic.width(), pic.height());
        p.drawImage(picRect, c.picture);
        QFont f = p.font();
        f.setBold(true);
        p.setFont(f);
        const QRect labelRect(box.x(), box.y() + picHeight + 3, box.width(), line);
        p.drawText(labelRect, Qt::AlignHCenter | Qt::AlignVCenter,
                   p.fontMetrics().elidedText(c.label, Qt::ElideMiddle, box.width()));
        f.setBold(false);
        p.setFont(f);
        p.drawText(labelRect.translated(0, line), Qt::AlignHCenter | Qt::AlignVCenter, c.values);
    }
}

void SanityStrip::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setPen(palette().color(QPalette::WindowText));
    paintCells(p, columnsFor(width()), 0);
}

QImage SanityStrip::render(int columns, const QString& title) const {
    const int n = static_cast<int>(m_cells.size());
    if (n == 0) return {};
    const int cols = columns > 0 ? std::min(columns, n) : n;
    const QSize cell = cellSize();
    const int rows = (n + cols - 1) / cols;
    const QFontMetrics fm = fontMetrics();
    const int width = std::max(cols * cell.width(), 480) + 2 * kGap;
    const QRect noteBox =
        fm.boundingRect(QRect(0, 0, width - 2 * kGap, 1000), Qt::TextWordWrap, noteText());
    const int head = title.isEmpty() ? 0 : fm.height() + 2 * kGap;
    const int height = head + rows * cell.height() + noteBox.height() + 2 * kGap;
    QImage out(width, height, QImage::Format_RGB888);
    out.fill(Qt::white);
    QPainter p(&out);
    p.setFont(font());
    p.setPen(Qt::black);
    if (!title.isEmpty())
        p.drawText(QRect(kGap, kGap, width - 2 * kGap, fm.height()), Qt::AlignLeft, title);
    p.translate(kGap, 0);
    paintCells(p, cols, head);
    p.translate(-kGap, 0);
    p.setPen(QColor(70, 70, 70));
    p.drawText(
        QRect(kGap, head + rows * cell.height() + kGap / 2, width - 2 * kGap, noteBox.height()),
        Qt::TextWordWrap, noteText());
    return out;
}

SanityDialog::SanityDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Sanity check: cascading model randomisation"));
    setObjectName(QStringLiteral("sanityDialog"));
    m_title = new QLabel;
    m_title->setObjectName(QStringLiteral("sanityTitle"));
    m_title->setWordWrap(true);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("sanityStatus"));
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("sanityProgress"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("sanityCancel"));
    auto* progressRow = new QHBoxLayout;
    progressRow->addWidget(m_status, 1);
    progressRow->addWidget(m_progress, 1);
    progressRow->addWidget(m_cancel);
    m_strip = new SanityStrip;
    m_strip->setObjectName(QStringLiteral("sanityStrip"));
    m_scroll = new QScrollArea;
    m_scroll->setWidget(m_strip);
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_note = new QLabel(noteText());
    m_note->setWordWrap(true);
    m_note->setStyleSheet(QStringLiteral("color: gray"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    m_save = buttons->addButton(tr("Save as PNG…"), QDialogButtonBox::ActionRole);
    m_save->setObjectName(QStringLiteral("sanitySave"));
    m_save->setEnabled(false);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addLayout(progressRow);
    layout->addWidget(m_scroll, 1);
    layout->addWidget(m_note);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_running) Q_EMIT cancelRequested();
    });
    connect(m_save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save the sanity check"),
                                                          QStringLiteral("sanity_check.png"),
                                                          tr("PNG images (*.png)"));
        if (!path.isEmpty()) savePng(path);
    });
    resize(1060, 640);
}

void SanityDialog::start(const QString& what) {
    m_what = what;
    m_running = true;
    m_outcome.reset();
    m_title->setText(what);
    m_status->setText(tr("Randomising the model…"));
    m_progress->setRange(0, 0);
    m_progress->setVisible(true);
    m_cancel->setVisible(true);
    m_cancel->setEnabled(true);
    m_save->setEnabled(false);
    m_strip->setCells({});
}

void SanityDialog::setProgress(int done, int total, const QString& step) {
    if (!m_running) return;
    if (total > 0) {
        m_progress->setRange(0, total);
        m_progress->setValue(done);
    }
    m_status->setText(step.isEmpty() ? tr("Randomising the model…") : step);
}

void SanityDialog::showOutcome(std::shared_ptr<const SanityOutcome> outcome, Colormap colormap,
                               float blend) {
    m_running = false;
    m_outcome = std::move(outcome);
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
    std::vector<SanityStrip::Cell> cells;
    for (std::size_t i = 0; i < m_outcome->labels.size(); ++i) {
        SanityStrip::Cell c;
        c.picture = toQImage(
            overlayHeatmap(m_outcome->thumbPhoto, m_outcome->thumbMaps[i], colormap, blend));
        c.label = QString::fromStdString(m_outcome->labels[i]);
        if (i == 0) {
            c.label = tr("original");
            c.values = tr("trained model");
        } else {
            c.label = tr("%1. %2").arg(i).arg(c.label);
            c.values = QStringLiteral("ρ %1 · SSIM %2")
                           .arg(number(m_outcome->spearman[i - 1]), number(m_outcome->ssim[i - 1]));
        }
        cells.push_back(std::move(c));
    }
    m_strip->setCells(std::move(cells));
    m_status->setText(tr("%1 randomisation steps, from the output back, cumulative · %2 s")
                          .arg(thumbnailCount())
                          .arg(m_outcome->seconds, 0, 'f', 1));
    // As tall as the strip needs (within reason), the width as it is.
    const int want = m_strip->heightForWidth(m_scroll->viewport()->width()) +
                     (height() - m_scroll->viewport()->height()) + 4;
    resize(width(), std::clamp(want, 360, 900));
    m_save->setEnabled(true);
}

void SanityDialog::showStopped(const QString& why) {
    if (!m_running) return;
    m_running = false;
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
    m_status->setText(why);
}

int SanityDialog::thumbnailCount() const {
    return m_outcome ? static_cast<int>(m_outcome->labels.size()) - 1 : 0;
}

QStringList SanityDialog::stepLabels() const {
    QStringList out;
    if (m_outcome)
        for (std::size_t i = 1; i < m_outcome->labels.size(); ++i)
            out << QString::fromStdString(m_outcome->labels[i]);
    return out;
}

const std::vector<double>& SanityDialog::spearman() const {
    static const std::vector<double> none;
    return m_outcome ? m_outcome->spearman : none;
}

const std::vector<double>& SanityDialog::ssim() const {
    static const std::vector<double> none;
    return m_outcome ? m_outcome->ssim : none;
}

QString SanityDialog::statusText() const {
    return m_status->text();
}

QImage SanityDialog::stripImage() const {
    return m_strip->render(6, m_what);
}

bool SanityDialog::savePng(const QString& path) const {
    const QImage img = stripImage();
    return !img.isNull() && img.save(path, "PNG");
}

}  // namespace camx::ui
