"""Today: the clinic's day and week schedule (a column per provider or per room).

``TodayView(desk, parent=None)`` is the widget a navigation slot hosts; everything else in this
package serves it: the layout model (:mod:`.layout`), the painted canvas (:mod:`.canvas`), the
appointment and booking dialogs (:mod:`.dialogs`) and the operations facade (:mod:`.facade`).
"""

from app.ui.schedule.today import TodayView

__all__ = ["TodayView"]
