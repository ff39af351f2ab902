from django.urls import path

from rapport.messaging import views_thread

# Included by urls_messages.py, so these names live in the "messages" namespace.
urlpatterns = [
    path("to/<int:candidate_id>/thread/", views_thread.thread_fragment, name="thread"),
    path("to/<int:candidate_id>/conversation/", views_thread.thread_page, name="conversation"),
    path("to/<int:candidate_id>/reply/", views_thread.thread_reply, name="reply"),
    path("attachments/<int:attachment_id>/", views_thread.attachment_download, name="attachment"),
]
