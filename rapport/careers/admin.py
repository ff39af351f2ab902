from django.contrib import admin

from rapport.careers.models import JobQuestion


@admin.register(JobQuestion)
class JobQuestionAdmin(admin.ModelAdmin):
    """Screening questions are set up here until the job editor has a section for them."""

    list_display = ("text", "job", "kind", "required", "knockout_answer", "position")
    list_filter = ("kind", "required")
    search_fields = ("text", "job__title")
    raw_id_fields = ("job",)
