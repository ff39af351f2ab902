from django.urls import path

from rapport.faq import views

urlpatterns = [
    path("", views.faq_list_view, name="list"),
    path("new/", views.faq_create_view, name="create"),
    path("<int:entry_id>/edit/", views.faq_edit_view, name="edit"),
    path("<int:entry_id>/delete/", views.faq_delete_view, name="delete"),
    path("unanswered/<int:question_id>/add/", views.unanswered_convert_view, name="convert"),
    path("unanswered/<int:question_id>/dismiss/", views.unanswered_dismiss_view, name="dismiss"),
    # Public: the "Ask a question" widget on the career site, and its pass-on form.
    path("ask/", views.careers_ask_view, name="ask"),
    path("ask/pass-on/", views.careers_pass_on_view, name="pass_on"),
    # The portal's widget (portal sign-in).
    path("portal/ask/", views.portal_ask_view, name="portal_ask"),
    path("portal/ask/pass-on/", views.portal_pass_on_view, name="portal_pass_on"),
]
