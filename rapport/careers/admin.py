from django.contrib import admin

from rapport.careers.models import JobQuestion


@admin.register(JobQuestion)
class JobQuestionAdmin(admin.ModelAdmin):
    """Screening questions; the team sets them up on each job's "Screening questions" page, this is the fallback."""

    list_display = ("text", "job", "kind", "required", "knockout_answer", "position")
    list_filter = ("kind", "required")
    search_fields = ("text", "job__title")
    raw_id_fields = ("job",)
