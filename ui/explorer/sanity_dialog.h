#pragma once
// The sanity check's window (Adebayo et al., 2018, cascading parameter randomisation): while it
// runs, its progress and Cancel; then the original map and one thumbnail per cascade step
// ("fc", "layer4.1", ..., "stem": each step also randomises every earlier one), drawn as the
// panels draw maps (the photo with the map blended over it in the explorer's colours), with the
// Spearman rank correlation and SSIM to the original under each. The strip saves as PNG.

#include <QDialog>
#include <QImage>
#include <QStringList>
#include <memory>
#include <vector>

#include "render/overlay.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QScrollArea;

namespace camx::ui {

struct SanityOutcome;

// The thumbnails and their numbers, painted in a grid; also rendered for the PNG.
class SanityStrip : public QWidget {
    Q_OBJECT
public:
    explicit SanityStrip(QWidget* parent = nullptr);
    struct Cell {
        QImage picture;
        QString label;
        QString values;  // "ρ 0.12 · SSIM 0.34"; the original's says what it is
    };
    void setCells(std::vector<Cell> cells);
    const std::vector<Cell>& cells() const { return m_cells; }
    // The whole strip at `columns` per row (0: as many as fit `width`), on white.
    QImage render(int columns, const QString& title) const;
    QSize cellSize() const;
    QSize sizeHint() const override;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;

protected:
    void paintEvent(QPaintEvent*) override;

private:
    int columnsFor(int width) const;
    int pictureHeight() const;  // the tallest picture as drawn
    void paintCells(QPainter& p, int columns, int top) const;
    std::vector<Cell> m_cells;
};

class SanityDialog : public QDialog {
    Q_OBJECT
public:
    explicit SanityDialog(QWidget* parent = nullptr);

    // A check has started: `what` names the image, method, layer and class.
    void start(const QString& what);
    void setProgress(int done, int total, const QString& step);
    void showOutcome(std::shared_ptr<const SanityOutcome> outcome, Colormap colormap, float blend);
    // Ended without an outcome: cancelled, failed or superseded.
    void showStopped(const QString& why);

    bool running() const { return m_running; }
    std::shared_ptr<const SanityOutcome> outcome() const { return m_outcome; }
    // One per cascade step, in cascade order (the original's thumbnail comes first and is not
    // counted).
    int thumbnailCount() const;
    QStringList stepLabels() const;
    const std::vector<double>& spearman() const;
    const std::vector<double>& ssim() const;
    QString statusText() const;
    QPushButton* cancelButton() const { return m_cancel; }
    QPushButton* saveButton() const { return m_save; }
    SanityStrip* strip() const { return m_strip; }
    // The strip with its title and legend, as Save writes it.
    QImage stripImage() const;
    bool savePng(const QString& path) const;

Q_SIGNALS:
    void cancelRequested();

private:
    QLabel* m_title;
    QLabel* m_status;
    QProgressBar* m_progress;
    QPushButton* m_cancel;
    QPushButton* m_save;
    QScrollArea* m_scroll;
    SanityStrip* m_strip;
    QLabel* m_note;
    QString m_what;
    bool m_running = false;
    std::shared_ptr<const SanityOutcome> m_outcome;
};

}  // namespace camx::ui
