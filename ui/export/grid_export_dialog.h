#pragma once
// File > Export Grid Figure: which images (worst or best by IoU from the dashboard's evaluation,
// the filtered list, or a hand selection), how many, the layout and the file.

#include <QDialog>
#include <QString>

#include "explain/heatmap.h"
#include "figures/figure_writer.h"

class QComboBox;
class QLineEdit;
class QSpinBox;

namespace camx::ui {

struct GridExportRequest {
    enum class Source { WorstIou, BestIou, Filtered, Selected } source = Source::WorstIou;
    int count = 16;
    int columns = 2;
    Method rankBy = Method::GradCam;
    QString file;
    ExportOptions options;
};

class GridExportDialog : public QDialog {
    Q_OBJECT
public:
    GridExportDialog(bool haveEvaluation, int selectedCount, QWidget* parent = nullptr);
    GridExportRequest request() const;
    // The model has no CAM: ranking by it is offered no more, and says why.
    void setCamUnavailable(const QString& why);

private:
    QComboBox* m_source;
    QSpinBox* m_count;
    QComboBox* m_rank;
    QSpinBox* m_columns;
    QLineEdit* m_file;
    QSpinBox* m_width;
};

}  // namespace camx::ui
