#pragma once
// Writes figures to PNG, JPEG, SVG or PDF, chosen by the file's suffix. Files are written to a
// temporary name and renamed, so a failed export never damages an earlier file.

#include <QSizeF>
#include <QString>
#include <functional>
#include <vector>

class QPainter;
class QRectF;

namespace camx::ui {

struct FigurePage {
    QSizeF size;  // natural size (96 DPI pixels): sets the aspect ratio and the vector page size
    std::function<void(QPainter&, const QRectF&)> paint;
};

struct ExportOptions {
    int widthPx = 0;  // raster width; 0: the natural width scaled by dpi / 96
    double dpi = 96;  // raster resolution (stored in the PNG) and scale when widthPx is 0
    QString title = QStringLiteral("CAM Explorer figure");
};

enum class FigureFormat { Png, Jpeg, Svg, Pdf, Unknown };
FigureFormat figureFormatFor(const QString& file);
// The raster size a page gets for these options.
QSize rasterSize(const QSizeF& natural, const ExportOptions& options);

// Writes one page (PNG, JPEG, SVG) or every page (PDF: one page each). Returns false and sets
// `error` (naming the file and the problem) on failure; PNG, JPEG and SVG take a single page.
bool writeFigure(const QString& file, const std::vector<FigurePage>& pages,
                 const ExportOptions& options, QString* error = nullptr);

}  // namespace camx::ui
