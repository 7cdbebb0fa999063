#include "figures/figure_writer.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <cmath>
#include <filesystem>

namespace camx::ui {

namespace {
QString tr(const char* s) {
    return QCoreApplication::translate("FigureWriter", s);
}
// Qt maps PNG "quality" to zlib effort (higher: faster, larger). Photographic figures barely
// compress anyway: this is several times faster than the default for a few percent more bytes.
constexpr int kPngQuality = 80;
}  // namespace

FigureFormat figureFormatFor(const QString& file) {
    const QString s = QFileInfo(file).suffix().toLower();
    if (s == "png") return FigureFormat::Png;
    if (s == "jpg" || s == "jpeg") return FigureFormat::Jpeg;
    if (s == "svg") return FigureFormat::Svg;
    if (s == "pdf") return FigureFormat::Pdf;
    return FigureFormat::Unknown;
}

QSize rasterSize(const QSizeF& natural, const ExportOptions& o) {
    if (natural.isEmpty()) return {};
    const double w = o.widthPx > 0 ? o.widthPx : natural.width() * o.dpi / 96.0;
    return {std::max(1, static_cast<int>(std::lround(w))),
            std::max(1, static_cast<int>(std::lround(w * natural.height() / natural.width())))};
}

bool writeFigure(const QString& file, const std::vector<FigurePage>& pages, const ExportOptions& o,
                 QString* error) {
    auto fail = [&](const QString& why) {
        if (error) *error = tr("Cannot write '%1': %2").arg(file, why);
        return false;
    };
    const FigureFormat format = figureFormatFor(file);
    if (format == FigureFormat::Unknown)
        return fail(tr("unknown format '.%1' (use .png, .jpg, .svg or .pdf)")
                        .arg(QFileInfo(file).suffix()));
    if (pages.empty() || pages.front().size.isEmpty()) return fail(tr("there is nothing to draw"));
    if (pages.size() > 1 && format != FigureFormat::Pdf)
        return fail(tr("only PDF holds several pages; make a grid figure instead"));
    if (o.widthPx < 0 || o.widthPx > 30000 || !(o.dpi >= 10 && o.dpi <= 2400))
        return fail(tr("the width must be 1–30000 pixels and the DPI 10–2400"));

    // Painted to a temporary file next to the target, then renamed over it.
    const QString tmp = file + QStringLiteral(".part");
    bool ok = true;
    if (format == FigureFormat::Png || format == FigureFormat::Jpeg) {
        const FigurePage& page = pages.front();
        const QSize px = rasterSize(page.size, o);
        if (static_cast<double>(px.width()) * px.height() > 400e6)
            return fail(tr("%1×%2 pixels is too large").arg(px.width()).arg(px.height()));
        QImage img(px, QImage::Format_RGB32);
        if (img.isNull())
            return fail(tr("out of memory for %1×%2 pixels").arg(px.width()).arg(px.height()));
        img.fill(Qt::white);
        const int dpm = static_cast<int>(std::lround(o.dpi / 0.0254));
        img.setDotsPerMeterX(dpm);
        img.setDotsPerMeterY(dpm);
        {
            QPainter p(&img);
            p.setRenderHint(QPainter::Antialiasing, true);
            p.setRenderHint(QPainter::TextAntialiasing, true);
            page.paint(p, QRectF(QPointF(0, 0), QSizeF(px)));
        }
        ok = img.save(tmp, format == FigureFormat::Png ? "PNG" : "JPG",
                      format == FigureFormat::Png ? kPngQuality : 92);
    } else if (format == FigureFormat::Svg) {
        const FigurePage& page = pages.front();
        QSvgGenerator svg;
        svg.setFileName(tmp);
        svg.setSize(page.size.toSize());
        svg.setViewBox(QRectF(QPointF(0, 0), page.size));
        svg.setResolution(96);
        svg.setTitle(o.title);
        svg.setDescription(tr("Made with CAM Explorer"));
        QPainter p;
        ok = p.begin(&svg);
        if (ok) {
            page.paint(p, QRectF(QPointF(0, 0), page.size));
            ok = p.end();
        }
    } else {
        QPdfWriter pdf(tmp);
        pdf.setResolution(96);
        pdf.setTitle(o.title);
        pdf.setCreator(QStringLiteral("CAM Explorer"));
        auto pageSize = [](const QSizeF& s) {
            return QPageSize(QSizeF(s.width() * 72.0 / 96.0, s.height() * 72.0 / 96.0),
                             QPageSize::Point, QString(), QPageSize::ExactMatch);
        };
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setPageSize(pageSize(pages.front().size));
        QPainter p;
        ok = p.begin(&pdf);
        for (std::size_t i = 0; ok && i < pages.size(); ++i) {
            if (i > 0) {
                pdf.setPageSize(pageSize(pages[i].size));
                ok = pdf.newPage();
            }
            // The painter works in device pixels at 96 DPI.
            const QRect r = pdf.pageLayout().paintRectPixels(96);
            pages[i].paint(p, QRectF(r.topLeft() - r.topLeft(), QSizeF(r.size())));
        }
        if (ok)
            ok = p.end();
        else if (p.isActive())
            p.end();
    }
    if (!ok) {
        QFile::remove(tmp);
        return fail(tr("the file could not be written (is the folder writable?)"));
    }
    // rename(2) replaces the old file in one step.
    std::error_code ec;
    std::filesystem::rename(tmp.toStdString(), file.toStdString(), ec);
    if (ec) {
        QFile::remove(tmp);
        return fail(QString::fromStdString(ec.message()));
    }
    return true;
}

}  // namespace camx::ui
