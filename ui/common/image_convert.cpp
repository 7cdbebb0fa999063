#include "common/image_convert.h"

#include <opencv2/imgproc.hpp>

namespace camx::ui {

QImage toQImage(const cv::Mat& rgb) {
    if (rgb.empty()) return {};
    cv::Mat c = rgb.isContinuous() ? rgb : rgb.clone();
    return QImage(c.data, c.cols, c.rows, static_cast<qsizetype>(c.step), QImage::Format_RGB888)
        .copy();
}

cv::Mat toRgbMat(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    cv::Mat view(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()),
                 static_cast<size_t>(rgb.bytesPerLine()));
    return view.clone();
}

}  // namespace camx::ui
