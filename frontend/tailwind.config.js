/** @type {import('tailwindcss').Config} */
export default {
  content: ["./index.html", "./console.html", "./src/**/*.{ts,tsx}"],
  darkMode: "media", // follows the visitor's system theme
  theme: { extend: {} },
};
