#include "export/grid_export_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardItemModel>

namespace camx::ui {

GridExportDialog::GridExportDialog(bool haveEvaluation, int selectedCount, QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("Export Grid Figure"));
    QSettings s;
    using Source = GridExportRequest::Source;
    m_source = new QComboBox;
    m_source->addItem(tr("Worst by IoU (from the evaluation)"), static_cast<int>(Source::WorstIou));
    m_source->addItem(tr("Best by IoU (from the evaluation)"), static_cast<int>(Source::BestIou));
    m_source->addItem(tr("The filtered list, in its order"), static_cast<int>(Source::Filtered));
    m_source->addItem(tr("The selected images (%1)").arg(selectedCount),
                      static_cast<int>(Source::Selected));
    auto* items = qobject_cast<QStandardItemModel*>(m_source->model());
    if (!haveEvaluation) {
        for (int i : {0, 1}) {
            items->item(i)->setEnabled(false);
            items->item(i)->setToolTip(tr("Run an evaluation in the dashboard first"));
        }
    }
    if (selectedCount < 1) items->item(3)->setEnabled(false);
    m_source->setCurrentIndex(haveEvaluation ? 0 : selectedCount > 1 ? 3 : 2);
    m_count = new QSpinBox;
    m_count->setRange(1, 256);
    m_count->setValue(s.value("grid/count", 16).toInt());
    m_rank = new QComboBox;
    m_rank->addItem(tr("Grad-CAM"), static_cast<int>(Method::GradCam));
    m_rank->addItem(tr("CAM"), static_cast<int>(Method::Cam));
    m_columns = new QSpinBox;
    m_columns->setRange(1, 8);
    m_columns->setValue(s.value("grid/columns", 2).toInt());
    m_width = new QSpinBox;
    m_width->setRange(200, 30000);
    m_width->setSuffix(tr(" px"));
    m_width->setValue(s.value("grid/width", 2400).toInt());
    m_width->setToolTip(tr("PNG and JPEG width; SVG and PDF stay vectors"));
    m_file = new QLineEdit(
        s.value("grid/file", QDir::home().filePath(QStringLiteral("cam-grid.pdf"))).toString());
    auto* browse = new QPushButton(tr("&Browse…"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Grid figure"), m_file->text(),
            tr("PDF document (*.pdf);;PNG image (*.png);;SVG drawing (*.svg);;JPEG image (*.jpg)"));
        if (!f.isEmpty()) m_file->setText(f);
    });
    auto* fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(browse);
    auto* f = new QFormLayout(this);
    f->addRow(tr("&Images"), m_source);
    f->addRow(tr("&How many"), m_count);
    f->addRow(tr("&Rank by"), m_rank);
    f->addRow(tr("&Columns"), m_columns);
    f->addRow(tr("&Width"), m_width);
    auto* fileLabel = new QLabel(tr("&File"));
    fileLabel->setBuddy(m_file);
    f->addRow(fileLabel, fileRow);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Export"));
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        QSettings st;
        st.setValue("grid/count", m_count->value());
        st.setValue("grid/columns", m_columns->value());
        st.setValue("grid/width", m_width->value());
        st.setValue("grid/file", m_file->text());
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    f->addRow(buttons);
}

void GridExportDialog::setCamUnavailable(const QString& why) {
    auto* items = qobject_cast<QStandardItemModel*>(m_rank->model());
    const int cam = m_rank->findData(static_cast<int>(Method::Cam));
    if (!items || cam < 0) return;
    if (m_rank->currentIndex() == cam)
        m_rank->setCurrentIndex(m_rank->findData(static_cast<int>(Method::GradCam)));
    items->item(cam)->setEnabled(false);
    items->item(cam)->setToolTip(why);
}

GridExportRequest GridExportDialog::request() const {
    GridExportRequest r;
    r.source = static_cast<GridExportRequest::Source>(m_source->currentData().toInt());
    r.count = m_count->value();
    r.columns = m_columns->value();
    r.rankBy = static_cast<Method>(m_rank->currentData().toInt());
    r.file = m_file->text();
    r.options.widthPx = m_width->value();
    return r;
}

}  // namespace camx::ui
