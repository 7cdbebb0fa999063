#pragma once
// Asks for a raster figure's size: width in pixels or resolution in DPI (linked), remembered.

#include <QDialog>
#include <QSizeF>

#include "figures/figure_writer.h"

class QSpinBox;
class QLabel;

namespace camx::ui {

class ExportSizeDialog : public QDialog {
    Q_OBJECT
public:
    ExportSizeDialog(const QSizeF& natural, QWidget* parent = nullptr);
    ExportOptions options() const;

private:
    void updateHeight();
    QSizeF m_natural;
    QSpinBox* m_width;
    QSpinBox* m_dpi;
    QLabel* m_height;
};

}  // namespace camx::ui
